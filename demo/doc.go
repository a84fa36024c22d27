// Package demo fills an empty store with a demonstration account, so that
// `audittrail serve --demo` opens on something worth looking at (SPEC §9).
//
// # The account
//
// Account "demo" ("Demo Contact Center", America/New_York) has the built-in
// profiles, an administrator who signs in as admin / admin — a demo-only
// password, exempt from the password policy — three more administrators,
// an agent manager and two agents. Only admin's password is known; the
// others get random ones.
//
// # The history
//
// The audit trail was enabled a little less than 13 months ago (so that
// nothing of it falls out of the default retention window) and holds what a
// contact center's platform would have sent since: about 250 changes a week
// to the eight built-in object types, mostly on weekdays during office
// hours in the account's zone, made by the four administrators (and the
// agent manager for users and agent groups), a few by a provisioning
// integration, the vendor's staff (is_lpa) and the platform itself
// (automatic: campaigns that start and end, agents disabled for
// inactivity).
//
// The objects have a life: the account already held agents, skills,
// groups, profiles, LoBs, surveys, campaigns and working-hours sets when
// the trail was enabled (their creation is not in the trail, as it would
// not be in a real one); during the year some are added, most are edited —
// one to three elements at a time: names, descriptions, numbers, lists of
// skills, group membership, booleans, nested schedules, passwords — and a
// few are deleted. References follow the world as it is at the time of the
// change: a new agent is put in a group and given skills that exist then.
//
// # The same path as a platform
//
// The history is made of before/after snapshots (ingest.ChangeInput) sent
// through the same Ingester as POST /changes, in date order and in batches
// of at most 1,000, so the diff engine works out the records, labels the
// elements and redacts the passwords exactly as it does for a platform.
//
// The history is generated from a fixed seed: given the same moment, two
// seeds give the same changes; only the ids and secrets that the domain
// draws from crypto/rand differ.
package demo
