-- demo-data.sql -- a few demo rows for ilias-schema.sql (ILIAS >= 9) or
-- ilias8-schema.sql (ILIAS <= 8); only columns common to both are named.
-- Idempotent: safe to load any number of times.

-- Three chat rooms. Room 2 / object 185 mirrors the row a fresh ILIAS install
-- ships (room_type 'default'); 1 and 3 stand for repository chat objects.
INSERT IGNORE INTO `chatroom_settings`
  (`room_id`, `object_id`, `room_type`, `allow_anonymous`, `allow_custom_usernames`,
   `enable_history`, `autogen_usernames`, `display_past_msgs`, `online_status`)
VALUES
  (1, 280, 'repository', 0, 0, 1, 'Anonymous #', 20, 1),
  (2, 185, 'default',    0, 0, 0, 'Anonymous #',  0, 1),
  (3, 282, 'repository', 0, 1, 1, 'Anonymous #',  0, 1);

-- Sequence state as ilDB::nextId() leaves it after handing out id 3:
-- one row holding the last id (AUTO_INCREMENT then continues at 4).
INSERT IGNORE INTO `chatroom_settings_seq` (`sequence`) VALUES (3);
DELETE FROM `chatroom_settings_seq` WHERE `sequence` < 3;

-- Users 6 (root) and 7 accept on-screen-chat messages. REPLACE because a
-- fresh ILIAS install already has (6, 'chat_osc_accept_msg', 'n').
REPLACE INTO `usr_pref` (`usr_id`, `keyword`, `value`) VALUES
  (6, 'chat_osc_accept_msg', 'y'),
  (7, 'chat_osc_accept_msg', 'y');
