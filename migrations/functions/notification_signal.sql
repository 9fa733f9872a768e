-- notification_signal is the trigger (on notification, created by migration
-- 006) behind `notify send --follow`: an inserting statement signals
-- rabbitpay_notification only while a follower is registered in
-- notification_follower, so with none the order path pays nothing (NOTIFY
-- serializes the commits of every notifying transaction).
CREATE OR REPLACE FUNCTION notification_signal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM notification_follower WHERE until > now()) AND EXISTS (SELECT FROM inserted) THEN
        PERFORM pg_notify('rabbitpay_notification', '');
    END IF;
    RETURN NULL;
END
$$;
