DROP TABLE IF EXISTS push_subscriptions;
DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS reminder_settings;
DROP TABLE IF EXISTS reminders;
