-- A submission updates its application row in place of the draft; every index of the table gets a new entry then
-- (the row changes indexed columns, so PostgreSQL cannot update it "HOT"). On a click day that is the cost that
-- counts: two indexes that others already cover go.
--   applications_call (call_id, status): the queries by call also filter by status or beneficiary, which
--     applications_queue and applications_one_per_beneficiary serve;
--   applications_unassigned: "take next" reads the head of applications_queue (status, submitted_at, id).
DROP INDEX applications_call;
DROP INDEX applications_unassigned;
