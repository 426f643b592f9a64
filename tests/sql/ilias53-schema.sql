-- ilias53-schema.sql -- applied after ilias8-schema.sql: turns that ILIAS <= 8 layout into the one
-- of an ILIAS 5.3 to 7 installation. The tables and columns the chat server touches are the same
-- from 5.3 to 8 (private rooms: chatroom_history.sub_room, chatroom_prooms, chatroom_proomaccess,
-- chatroom_psessions); what differs is the storage of that era: tables created with the 3-byte
-- `utf8` character set, as ILIAS's setup did before it moved to utf8mb4. Such a column refuses
-- emoji, which is what DESIGN.md D13 is about.
ALTER TABLE `chatroom_settings` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_settings_seq` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_users` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_sessions` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_sessions_seq` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_history` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_history_seq` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_prooms` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_prooms_seq` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_proomaccess` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_psessions` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `chatroom_psessions_seq` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `osc_conversation` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `osc_messages` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `osc_activity` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
ALTER TABLE `usr_pref` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci;
