/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
X(rekey_many_in_flight, 30)
X(rekey_old_key_refused_and_wiped, 10)
X(rekey_replay_refused, 10)
X(rekey_tamper_refused, 10)
X(rekey_both_offer, 10)
X(rekey_due_and_reject, 10)
