// The sync versions this app speaks, sent with every push (docs/sync.md, Versions). Written once in Python
// (sync/wire.py PROTOCOL, SCHEMA); tests/unit/test_sync_version.py checks that these say the same.
export const PROTOCOL = 2;
export const SCHEMA = 2;
