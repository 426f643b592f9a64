-- ilias53-schema.sql -- tables the ILIAS chat server touches, as an ILIAS 5.3 to 7 installation
-- has them: the ILIAS <= 8 layout (private rooms: chatroom_history.sub_room, chatroom_prooms,
-- chatroom_proomaccess, chatroom_psessions; the columns the chat server reads and writes did not
-- change between 5.3 and 8, see ilias8-schema.sql for where they come from) in the storage of
-- that era: tables created with the 3-byte `utf8` character set, as ILIAS's setup did before it
-- moved to utf8mb4. Such a column refuses emoji, which is what DESIGN.md D13 is about.
-- Self-contained; do not combine with the other schema files in the same database.

CREATE TABLE IF NOT EXISTS `chatroom_settings` (
  `room_id` int(11) NOT NULL DEFAULT 0,
  `object_id` int(11) DEFAULT 0,
  `room_type` varchar(20) NOT NULL DEFAULT '',
  `allow_anonymous` tinyint(4) DEFAULT 0,
  `allow_custom_usernames` tinyint(4) DEFAULT 0,
  `enable_history` tinyint(4) DEFAULT 0,
  `restrict_history` tinyint(4) DEFAULT 0,
  `autogen_usernames` varchar(50) DEFAULT 'Anonymous #',
  `allow_private_rooms` tinyint(4) DEFAULT 0,
  `display_past_msgs` int(11) NOT NULL DEFAULT 0,
  `private_rooms_enabled` int(11) NOT NULL DEFAULT 0,
  `online_status` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`room_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

CREATE TABLE IF NOT EXISTS `chatroom_settings_seq` (
  `sequence` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`sequence`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

-- Presence: rows inserted by ILIAS PHP on enter, read/deleted by the server.
CREATE TABLE IF NOT EXISTS `chatroom_users` (
  `room_id` int(11) NOT NULL DEFAULT 0,
  `user_id` int(11) NOT NULL DEFAULT 0,
  `userdata` varchar(4000) NOT NULL DEFAULT '',
  `connected` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`room_id`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

CREATE TABLE IF NOT EXISTS `chatroom_sessions_seq` (
  `sequence` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`sequence`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

-- timestamp in unix seconds; sub_room = private room id (0 = main room).
CREATE TABLE IF NOT EXISTS `chatroom_history` (
  `hist_id` bigint(20) NOT NULL DEFAULT 0,
  `room_id` int(11) NOT NULL DEFAULT 0,
  `message` varchar(4000) DEFAULT NULL,
  `timestamp` int(11) NOT NULL DEFAULT 0,
  `sub_room` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`hist_id`),
  KEY `i1_idx` (`room_id`,`sub_room`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

CREATE TABLE IF NOT EXISTS `chatroom_history_seq` (
  `sequence` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`sequence`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

-- Private rooms (removed in ILIAS 9). parent_id = chatroom_settings.room_id.
CREATE TABLE IF NOT EXISTS `chatroom_prooms` (
  `proom_id` int(11) NOT NULL DEFAULT 0,
  `parent_id` int(11) NOT NULL DEFAULT 0,
  `title` varchar(200) NOT NULL DEFAULT '0',
  `owner` int(11) NOT NULL DEFAULT 0,
  `created` int(11) NOT NULL DEFAULT 0,
  `closed` int(11) DEFAULT 0,
  `is_public` tinyint(4) DEFAULT 1,
  PRIMARY KEY (`proom_id`),
  KEY `i1_idx` (`parent_id`),
  KEY `i2_idx` (`owner`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

CREATE TABLE IF NOT EXISTS `chatroom_prooms_seq` (
  `sequence` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`sequence`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

-- No sequence table: ILIAS never generates ids for this one.
CREATE TABLE IF NOT EXISTS `chatroom_proomaccess` (
  `proom_id` int(11) NOT NULL DEFAULT 0,
  `user_id` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`proom_id`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

CREATE TABLE IF NOT EXISTS `chatroom_psessions` (
  `psess_id` bigint(20) NOT NULL DEFAULT 0,
  `proom_id` int(11) NOT NULL DEFAULT 0,
  `user_id` int(11) NOT NULL DEFAULT 0,
  `connected` int(11) NOT NULL DEFAULT 0,
  `disconnected` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`psess_id`),
  KEY `i1_idx` (`proom_id`,`user_id`),
  KEY `i2_idx` (`disconnected`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

CREATE TABLE IF NOT EXISTS `chatroom_psessions_seq` (
  `sequence` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`sequence`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

-- On-screen chat. id is a UUID; participants is a JSON array of {id,name}.
CREATE TABLE IF NOT EXISTS `osc_conversation` (
  `id` varchar(255) NOT NULL DEFAULT '',
  `is_group` tinyint(4) NOT NULL DEFAULT 0,
  `participants` varchar(4000) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

-- timestamp in unix milliseconds.
CREATE TABLE IF NOT EXISTS `osc_activity` (
  `conversation_id` varchar(255) NOT NULL DEFAULT '',
  `user_id` int(11) NOT NULL DEFAULT 0,
  `timestamp` bigint(20) NOT NULL DEFAULT 0,
  `is_closed` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`conversation_id`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;

-- User preferences; the server reads keyword 'chat_osc_accept_msg' = 'y'.
CREATE TABLE IF NOT EXISTS `usr_pref` (
  `usr_id` int(11) NOT NULL DEFAULT 0,
  `keyword` char(40) NOT NULL DEFAULT '',
  `value` varchar(4000) DEFAULT NULL,
  PRIMARY KEY (`usr_id`,`keyword`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci;
