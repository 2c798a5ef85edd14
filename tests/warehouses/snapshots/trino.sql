-- scan
SELECT count(*) AS rows, count(*) AS c0_considered, sum(CASE WHEN (analytics.orders.order_id IS NULL) THEN 1 ELSE 0 END) AS c0_failing, sum(CASE WHEN (analytics.orders.order_id IS NOT NULL) THEN 1 ELSE 0 END) AS c1_considered, count(*) AS c2_considered, sum(CASE WHEN (analytics.orders.amount IS NULL) THEN 1 ELSE 0 END) AS c2_failing, count(analytics.orders.amount) AS c3_considered, sum(CASE WHEN (analytics.orders.amount IS NOT NULL AND (analytics.orders.amount < 0 OR analytics.orders.amount > 100000)) THEN 1 ELSE 0 END) AS c3_failing, min(analytics.orders.amount) AS c3_minimum, max(analytics.orders.amount) AS c3_maximum, count(analytics.orders.country) AS c4_considered, sum(CASE WHEN (analytics.orders.country IS NOT NULL AND (analytics.orders.country NOT IN ('US', 'DE'))) THEN 1 ELSE 0 END) AS c4_failing, count(analytics.orders.country) AS c5_considered, sum(CASE WHEN (analytics.orders.country IS NOT NULL AND (length(analytics.orders.country) < 2 OR length(analytics.orders.country) > 2)) THEN 1 ELSE 0 END) AS c5_failing, count(analytics.orders.email) AS c6_considered, sum(CASE WHEN (analytics.orders.email IS NOT NULL AND NOT regexp_like(analytics.orders.email, '^[^@]+@[^@]+$')) THEN 1 ELSE 0 END) AS c6_failing, count(*) AS c7_considered, sum(CASE WHEN (analytics.orders.created_at IS NULL) THEN 1 ELSE 0 END) AS c7_failing, count(analytics.orders."Mixed Case") AS c8_considered, sum(CASE WHEN (analytics.orders."Mixed Case" IS NOT NULL AND analytics.orders."Mixed Case" IN ('x')) THEN 1 ELSE 0 END) AS c8_failing, sum(CASE WHEN (analytics.orders.country IS NOT NULL OR analytics.orders.email IS NOT NULL) THEN 1 ELSE 0 END) AS c9_considered, count(DISTINCT analytics.orders.email) AS c10_value, count(analytics.orders.email) AS c10_considered, avg(analytics.orders.amount) AS c11_value, count(analytics.orders.amount) AS c11_considered, count(*) AS c12_considered, sum(CASE WHEN (amount >= 0) THEN 0 ELSE 1 END) AS c12_failing, max(analytics.orders.created_at) AS c13_value, count(analytics.orders.order_id) AS c14_considered, avg(analytics.orders.order_id) AS c15_value, count(analytics.orders.amount) AS c16_considered, avg(analytics.orders.amount) AS c17_value, count(analytics.orders.country) AS c18_considered, count(analytics.orders.email) AS c19_considered, count(DISTINCT analytics.orders.email) AS c20_value, count(analytics.orders.created_at) AS c21_considered, max(analytics.orders.created_at) AS c22_value, count(analytics.orders."Mixed Case") AS c23_considered
FROM analytics.orders;

-- unique(order_id): samples
SELECT analytics.orders.order_id AS order_id, count(*) AS n
FROM analytics.orders
WHERE analytics.orders.order_id IS NOT NULL GROUP BY analytics.orders.order_id
HAVING count(*) > 1
LIMIT 5;

-- unique(order_id): duplicated rows
SELECT anon_1.order_id, anon_1.n, sum(anon_1.n) OVER () AS anon_2
FROM (SELECT analytics.orders.order_id AS order_id, count(*) AS n
FROM analytics.orders
WHERE analytics.orders.order_id IS NOT NULL GROUP BY analytics.orders.order_id
HAVING count(*) > 1) AS anon_1
LIMIT 5;

-- unique(order_id): distinct
SELECT count(DISTINCT analytics.orders.order_id) AS count_1, count(analytics.orders.order_id) AS count_2
FROM analytics.orders;

-- range(amount): samples
SELECT analytics.orders.amount
FROM analytics.orders
WHERE analytics.orders.amount IS NOT NULL AND (analytics.orders.amount < 0 OR analytics.orders.amount > 100000)
LIMIT 5;

-- allowed(country): samples
SELECT analytics.orders.country AS exact_text_1
FROM analytics.orders
WHERE analytics.orders.country IS NOT NULL AND (analytics.orders.country NOT IN ('US', 'DE'))
LIMIT 5;

-- length(country): samples
SELECT analytics.orders.country AS exact_text_1
FROM analytics.orders
WHERE analytics.orders.country IS NOT NULL AND (length(analytics.orders.country) < 2 OR length(analytics.orders.country) > 2)
LIMIT 5;

-- pattern(email): samples
SELECT analytics.orders.email AS exact_text_1
FROM analytics.orders
WHERE analytics.orders.email IS NOT NULL AND NOT regexp_like(analytics.orders.email, '^[^@]+@[^@]+$')
LIMIT 5;

-- not_allowed(Mixed Case): samples
SELECT analytics.orders."Mixed Case" AS exact_text_1
FROM analytics.orders
WHERE analytics.orders."Mixed Case" IS NOT NULL AND analytics.orders."Mixed Case" IN ('x')
LIMIT 5;

-- unique(country, email): samples
SELECT analytics.orders.country AS country, analytics.orders.email AS email, count(*) AS n
FROM analytics.orders
WHERE analytics.orders.country IS NOT NULL OR analytics.orders.email IS NOT NULL GROUP BY analytics.orders.country, analytics.orders.email
HAVING count(*) > 1
LIMIT 5;

-- unique(country, email): duplicated rows
SELECT anon_1.country, anon_1.email, anon_1.n, sum(anon_1.n) OVER () AS anon_2
FROM (SELECT analytics.orders.country AS country, analytics.orders.email AS email, count(*) AS n
FROM analytics.orders
WHERE analytics.orders.country IS NOT NULL OR analytics.orders.email IS NOT NULL GROUP BY analytics.orders.country, analytics.orders.email
HAVING count(*) > 1) AS anon_1
LIMIT 5;

-- expression(amount >= 0): samples
SELECT analytics.orders.amount AS amount
FROM analytics.orders
WHERE CASE WHEN (amount >= 0) THEN 0 ELSE 1 END = 1
LIMIT 5;
