-- ilias-schema.sql -- tables the ILIAS chat server touches, ILIAS >= 9 layout
-- (private rooms removed). Columns, types, NULL-ness, defaults, primary keys
-- and index names follow ILIAS's own MySQL/MariaDB dump of a fresh install,
-- components/ILIAS/setup_/sql/ilias3.sql (ILIAS 10/trunk), which equals an
-- ILIAS 8 database after components/ILIAS/Chatroom/classes/Setup/UpdateSteps.php
-- step_1..step_5 have run.
--
-- ILIAS 9.x note: the 9.x update step drops sub_room, allow_private_rooms and
-- the private-room tables, but (bug in Modules/Chatroom/classes/Setup/
-- UpdateSteps.php) tries to drop private_rooms_enabled from chatroom_history
-- instead of chatroom_settings, and restrict_history is only dropped by the
-- ILIAS 10 steps. So a 9.x chatroom_settings may still carry restrict_history
-- and private_rooms_enabled; the chat server never reads either column.
--
-- ILIAS's dumps carry no engine/charset; InnoDB + utf8mb4_unicode_ci is what
-- current ILIAS setups create. No USE / CREATE DATABASE: the caller picks it.

CREATE TABLE IF NOT EXISTS `chatroom_settings` (
  `room_id` int(11) NOT NULL DEFAULT 0,
  `object_id` int(11) DEFAULT 0,
  `room_type` varchar(20) NOT NULL DEFAULT '',
  `allow_anonymous` tinyint(4) DEFAULT 0,
  `allow_custom_usernames` tinyint(4) DEFAULT 0,
  `enable_history` tinyint(4) DEFAULT 0,
  `autogen_usernames` varchar(50) DEFAULT 'Anonymous #',
  `display_past_msgs` int(11) NOT NULL DEFAULT 0,
  `online_status` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`room_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `chatroom_settings_seq` (
  `sequence` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`sequence`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Presence: rows inserted by ILIAS PHP on enter, read/deleted by the server.
CREATE TABLE IF NOT EXISTS `chatroom_users` (
  `room_id` int(11) NOT NULL DEFAULT 0,
  `user_id` int(11) NOT NULL DEFAULT 0,
  `userdata` varchar(4000) NOT NULL DEFAULT '',
  `connected` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`room_id`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `chatroom_sessions` (
  `sess_id` bigint(20) NOT NULL DEFAULT 0,
  `room_id` int(11) NOT NULL DEFAULT 0,
  `user_id` int(11) NOT NULL DEFAULT 0,
  `userdata` varchar(4000) DEFAULT NULL,
  `connected` int(11) NOT NULL DEFAULT 0,
  `disconnected` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`sess_id`),
  KEY `i1_idx` (`room_id`,`user_id`),
  KEY `i2_idx` (`disconnected`),
  KEY `i3_idx` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `chatroom_sessions_seq` (
  `sequence` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`sequence`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- timestamp in unix seconds; message is the JSON of the whole message object.
CREATE TABLE IF NOT EXISTS `chatroom_history` (
  `hist_id` bigint(20) NOT NULL DEFAULT 0,
  `room_id` int(11) NOT NULL DEFAULT 0,
  `message` varchar(4000) DEFAULT NULL,
  `timestamp` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`hist_id`),
  KEY `i1_idx` (`room_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `chatroom_history_seq` (
  `sequence` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`sequence`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- On-screen chat. id is a UUID; participants is a JSON array of {id,name}.
CREATE TABLE IF NOT EXISTS `osc_conversation` (
  `id` varchar(255) NOT NULL DEFAULT '',
  `is_group` tinyint(4) NOT NULL DEFAULT 0,
  `participants` varchar(4000) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- timestamp in unix milliseconds.
CREATE TABLE IF NOT EXISTS `osc_messages` (
  `id` varchar(255) NOT NULL DEFAULT '',
  `conversation_id` varchar(255) NOT NULL DEFAULT '',
  `user_id` int(11) NOT NULL DEFAULT 0,
  `message` longtext DEFAULT NULL,
  `timestamp` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `i1_idx` (`user_id`),
  KEY `i2_idx` (`conversation_id`),
  KEY `i3_idx` (`conversation_id`,`user_id`,`timestamp`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- timestamp in unix milliseconds.
CREATE TABLE IF NOT EXISTS `osc_activity` (
  `conversation_id` varchar(255) NOT NULL DEFAULT '',
  `user_id` int(11) NOT NULL DEFAULT 0,
  `timestamp` bigint(20) NOT NULL DEFAULT 0,
  `is_closed` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`conversation_id`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- User preferences; the server reads keyword 'chat_osc_accept_msg' = 'y'.
CREATE TABLE IF NOT EXISTS `usr_pref` (
  `usr_id` int(11) NOT NULL DEFAULT 0,
  `keyword` char(40) NOT NULL DEFAULT '',
  `value` varchar(4000) DEFAULT NULL,
  PRIMARY KEY (`usr_id`,`keyword`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
