-- The privileges of the role plan-guard and the provider connect to a shared PostgreSQL
-- store as. Run it as the owner of the iom_ tables (the role whose first plan-guard or
-- provider run created them), in the store's database, after creating the role with the
-- login your site uses (password, certificate):
--
--   CREATE ROLE iom_writer LOGIN;
--   psql -v ON_ERROR_STOP=1 -d STORE_DATABASE -f writer-role.sql
--
-- The writer changes the model and appends to the evidence ledger and the observations,
-- but holds no UPDATE, DELETE or TRUNCATE on them: only the owner could cut or edit the
-- ledger, and the append-only triggers refuse that even to the owner unless dropped.
GRANT SELECT ON iom_schema TO iom_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON iom_objects, iom_drift TO iom_writer;
-- A governed apply claims its decision, then marks the claim done or failed.
GRANT SELECT, INSERT, UPDATE ON iom_apply_claims TO iom_writer;
-- Appends lock and move these single rows; triggers let the head move only forward.
GRANT SELECT, UPDATE ON iom_model_revision, iom_evidence_head TO iom_writer;
GRANT SELECT, INSERT ON iom_evidence, iom_observations, iom_secrets TO iom_writer;
GRANT USAGE ON SEQUENCE iom_observations_id_seq TO iom_writer;
