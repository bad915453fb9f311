-- Accounts: users (keyed by login), sign-in sessions and API tokens (keyed by the sha256 of
-- their secret; the secret itself is kept nowhere), and every sign-in attempt (keyed by a
-- UUIDv7 of its time, so the last minutes of attempts are one range of keys).

CREATE TABLE users (
    id   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE sessions (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_login TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_login, id);

CREATE TABLE api_tokens (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_login TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_login, id);

-- The login as typed: an attempt on an unknown login is kept too, so no reference to users.
CREATE TABLE login_attempts (
    id    TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    login TEXT COLLATE "C" NOT NULL,
    body  TEXT NOT NULL
);
CREATE INDEX login_attempts_by_login ON login_attempts (login, id);
