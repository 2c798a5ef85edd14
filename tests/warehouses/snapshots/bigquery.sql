-- scan
SELECT count(*) AS `rows`, count(*) AS `c0_considered`, sum(CASE WHEN (`orders`.`order_id` IS NULL) THEN 1 ELSE 0 END) AS `c0_failing`, sum(CASE WHEN (`orders`.`order_id` IS NOT NULL) THEN 1 ELSE 0 END) AS `c1_considered`, count(*) AS `c2_considered`, sum(CASE WHEN (`orders`.`amount` IS NULL) THEN 1 ELSE 0 END) AS `c2_failing`, count(`orders`.`amount`) AS `c3_considered`, sum(CASE WHEN (`orders`.`amount` IS NOT NULL AND (`orders`.`amount` < 0 OR `orders`.`amount` > 100000)) THEN 1 ELSE 0 END) AS `c3_failing`, min(`orders`.`amount`) AS `c3_minimum`, max(`orders`.`amount`) AS `c3_maximum`, count(`orders`.`country`) AS `c4_considered`, sum(CASE WHEN (`orders`.`country` IS NOT NULL AND (`orders`.`country` NOT IN ('US', 'DE'))) THEN 1 ELSE 0 END) AS `c4_failing`, count(`orders`.`country`) AS `c5_considered`, sum(CASE WHEN (`orders`.`country` IS NOT NULL AND (length(`orders`.`country`) < 2 OR length(`orders`.`country`) > 2)) THEN 1 ELSE 0 END) AS `c5_failing`, count(`orders`.`email`) AS `c6_considered`, sum(CASE WHEN (`orders`.`email` IS NOT NULL AND NOT REGEXP_CONTAINS(`orders`.`email`, '^[^@]+@[^@]+$')) THEN 1 ELSE 0 END) AS `c6_failing`, count(*) AS `c7_considered`, sum(CASE WHEN (`orders`.`created_at` IS NULL) THEN 1 ELSE 0 END) AS `c7_failing`, count(`orders`.`Mixed Case`) AS `c8_considered`, sum(CASE WHEN (`orders`.`Mixed Case` IS NOT NULL AND `orders`.`Mixed Case` IN ('x')) THEN 1 ELSE 0 END) AS `c8_failing`, sum(CASE WHEN (`orders`.`country` IS NOT NULL OR `orders`.`email` IS NOT NULL) THEN 1 ELSE 0 END) AS `c9_considered`, count(DISTINCT `orders`.`email`) AS `c10_value`, count(`orders`.`email`) AS `c10_considered`, avg(`orders`.`amount`) AS `c11_value`, count(`orders`.`amount`) AS `c11_considered`, count(*) AS `c12_considered`, sum(CASE WHEN (amount >= 0) THEN 0 ELSE 1 END) AS `c12_failing`, max(`orders`.`created_at`) AS `c13_value`, count(`orders`.`order_id`) AS `c14_considered`, avg(`orders`.`order_id`) AS `c15_value`, count(`orders`.`amount`) AS `c16_considered`, avg(`orders`.`amount`) AS `c17_value`, count(`orders`.`country`) AS `c18_considered`, count(`orders`.`email`) AS `c19_considered`, count(DISTINCT `orders`.`email`) AS `c20_value`, count(`orders`.`created_at`) AS `c21_considered`, max(`orders`.`created_at`) AS `c22_value`, count(`orders`.`Mixed Case`) AS `c23_considered`
FROM `my-project.analytics`.`orders`;

-- unique(order_id): samples
SELECT `orders`.`order_id` AS `order_id`, count(*) AS `n`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`order_id` IS NOT NULL GROUP BY `orders`.`order_id`
HAVING count(*) > 1
 LIMIT 5;

-- unique(order_id): duplicated rows
SELECT `anon_1`.`order_id`, `anon_1`.`n`, sum(`anon_1`.`n`) OVER () AS `anon_2`
FROM (SELECT `orders`.`order_id` AS `order_id`, count(*) AS `n`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`order_id` IS NOT NULL GROUP BY `orders`.`order_id`
HAVING count(*) > 1) AS `anon_1`
 LIMIT 5;

-- unique(order_id): distinct
SELECT count(DISTINCT `orders`.`order_id`) AS `count_1`, count(`orders`.`order_id`) AS `count_2`
FROM `my-project.analytics`.`orders`;

-- range(amount): samples
SELECT `orders`.`amount`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`amount` IS NOT NULL AND (`orders`.`amount` < 0 OR `orders`.`amount` > 100000)
 LIMIT 5;

-- allowed(country): samples
SELECT `orders`.`country` AS `exact_text_1`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`country` IS NOT NULL AND (`orders`.`country` NOT IN ('US', 'DE'))
 LIMIT 5;

-- length(country): samples
SELECT `orders`.`country` AS `exact_text_1`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`country` IS NOT NULL AND (length(`orders`.`country`) < 2 OR length(`orders`.`country`) > 2)
 LIMIT 5;

-- pattern(email): samples
SELECT `orders`.`email` AS `exact_text_1`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`email` IS NOT NULL AND NOT REGEXP_CONTAINS(`orders`.`email`, '^[^@]+@[^@]+$')
 LIMIT 5;

-- not_allowed(Mixed Case): samples
SELECT `orders`.`Mixed Case` AS `exact_text_1`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`Mixed Case` IS NOT NULL AND `orders`.`Mixed Case` IN ('x')
 LIMIT 5;

-- unique(country, email): samples
SELECT `orders`.`country` AS `country`, `orders`.`email` AS `email`, count(*) AS `n`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`country` IS NOT NULL OR `orders`.`email` IS NOT NULL GROUP BY `exact_text_1`, `exact_text_2`
HAVING count(*) > 1
 LIMIT 5;

-- unique(country, email): duplicated rows
SELECT `anon_1`.`country`, `anon_1`.`email`, `anon_1`.`n`, sum(`anon_1`.`n`) OVER () AS `anon_2`
FROM (SELECT `orders`.`country` AS `country`, `orders`.`email` AS `email`, count(*) AS `n`
FROM `my-project.analytics`.`orders`
WHERE `orders`.`country` IS NOT NULL OR `orders`.`email` IS NOT NULL GROUP BY `exact_text_1`, `exact_text_2`
HAVING count(*) > 1) AS `anon_1`
 LIMIT 5;

-- expression(amount >= 0): samples
SELECT `orders`.`amount` AS `amount`
FROM `my-project.analytics`.`orders`
WHERE CASE WHEN (amount >= 0) THEN 0 ELSE 1 END = 1
 LIMIT 5;
