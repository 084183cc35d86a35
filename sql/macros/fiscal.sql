-- Federal fiscal periods. FY2025 Q1 = 2024-10-01 .. 2024-12-31: the fiscal year is named by the
-- calendar year in which it ends, so October to December belong to the next year's Q1.
create or replace macro fiscal_year_of(ts) as
    year(ts) + case when month(ts) >= 10 then 1 else 0 end;

-- Oct-Dec -> 1, Jan-Mar -> 2, Apr-Jun -> 3, Jul-Sep -> 4.
create or replace macro fiscal_quarter_number_of(ts) as
    (month(ts) + 2) % 12 // 3 + 1;

-- Labels sort in time order as plain text, which the period filters rely on.
create or replace macro fiscal_year_label(fy) as
    'FY' || cast(fy as varchar);

create or replace macro fiscal_quarter_label(fy, q) as
    'FY' || cast(fy as varchar) || ' Q' || cast(q as varchar);

create or replace macro fiscal_quarter_of(ts) as
    fiscal_quarter_label(fiscal_year_of(ts), fiscal_quarter_number_of(ts));

create or replace macro month_of(ts) as
    strftime(ts, '%Y-%m');
