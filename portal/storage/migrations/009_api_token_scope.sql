-- A token may be limited to some sub-ambiti: it then sees, and changes, only the applications of their comuni, as
-- an operatore does. NULL is the whole district; an empty list would be a token that sees nothing, so it is refused.
ALTER TABLE api_tokens
    ADD COLUMN sub_ambiti text[]
        CONSTRAINT api_tokens_sub_ambiti_not_empty CHECK (sub_ambiti IS NULL
            OR (cardinality(sub_ambiti) > 0 AND array_ndims(sub_ambiti) = 1));

-- An array cannot hold foreign keys: the codes are checked here, so a typo never becomes a token that sees nothing.
CREATE FUNCTION api_tokens_check_sub_ambiti() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(NEW.sub_ambiti) AS c (code)
               WHERE NOT EXISTS (SELECT 1 FROM sub_ambiti s WHERE s.code = c.code)) THEN
        RAISE EXCEPTION 'unknown sub-ambito in %', NEW.sub_ambiti
            USING ERRCODE = '23503', CONSTRAINT = 'api_tokens_sub_ambiti_fkey';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER api_tokens_sub_ambiti BEFORE INSERT OR UPDATE OF sub_ambiti ON api_tokens
    FOR EACH ROW WHEN (NEW.sub_ambiti IS NOT NULL) EXECUTE FUNCTION api_tokens_check_sub_ambiti();
