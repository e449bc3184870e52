// Package subscribers will hold who gets the digest: the Subscriber type,
// statuses, theme choices, address checks, signed tokens, CSV import and
// export, and the Store interface (DESIGN.md §2). It imports only the
// standard library. Its contents arrive with the subscribers issue; the
// package exists now so the import rules are checked from the start.
package subscribers
