/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/* Daemon config, policy and audit log (test_cfg.c, test_policy_audit.c). */
X(cfg_design_example, 10)
X(cfg_defaults, 10)
X(cfg_syntax, 10)
X(cfg_values, 10)
X(cfg_errors, 10)
X(cfg_errors_file, 20)
X(cfg_dump_roundtrip, 10)
X(cfg_load_file, 10)
X(cfg_lookup, 10)
X(cfg_examples, 10)
X(cfg_mutate, 120)
X(policy_refusals, 10)
X(policy_modes, 10)
X(policy_dealer, 10)
X(audit_lines, 10)
X(audit_file, 10)
/* Peer wire bounds (test_wire.c). */
X(wire_names_ids, 10)
X(wire_spec_bounds, 10)
X(wire_part_bounds, 10)
X(wire_other_frames, 10)
