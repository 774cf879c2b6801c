"""The sync of a project from its Qlik Cloud tenant, one piece per module:

- `connect`   a client for a customer's tenant (decrypted key, shared request budget);
- `fetch`     listings and the per-app calls (at most two per new or changed app);
- `problems`  what went wrong per app, features found off, the systemic breaker;
- `payloads`  API objects mapped to rows;
- `store`     set-based upserts and the delete of what vanished, in one transaction;
- `runs`      the run record and the lock that makes "running" die with its process;
- `project`   `qlik_project_sync`, which puts them in order.

Public entry points are re-exported by `qlik.services`.
"""
