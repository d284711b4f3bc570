-- E-mail and SMS rows written without their delivery job yet (kinds the dispatcher sweeps, notifications/dispatch.go):
-- the dispatcher finds them through this index.
CREATE INDEX notifications_undispatched ON notifications (id) WHERE job_id IS NULL AND status = 'pending' AND channel <> 'inbox';
