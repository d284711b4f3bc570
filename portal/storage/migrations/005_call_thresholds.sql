-- Calls carry their own rules as data: the form version residents fill in, the ISEE threshold per category and
-- the budget per category (cents). Staff set them per call; a new year's call needs no release.
ALTER TABLE calls
    ADD COLUMN form_version text  NOT NULL DEFAULT '',
    ADD COLUMN thresholds   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(thresholds) = 'object'),
    ADD COLUMN budgets      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(budgets) = 'object');

-- Demo defaults for the FNA Misura B2 calls already loaded (PRODUCT.md): socio-sanitario ISEE up to €25,000 for
-- adults, ordinario up to €40,000 for minors.
UPDATE calls SET form_version = 'fna-b2/2026-v1',
    thresholds = '{"anziani": 2500000, "disabili_adulti": 2500000, "voucher": 2500000, "caregiver_minori": 4000000}'
WHERE measure = 'fna-b2' AND thresholds = '{}';
