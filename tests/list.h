/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Every unit test, as X(name, timeout_seconds). Each layer keeps its own
 * list file so that work on different layers does not collide here.
 */
#include "list_crypto.h"
#include "list_chan.h"
#include "list_rekey.h"
#include "list_wipe.h"
#include "list_files.h"
#include "list_model.h"
#include "list_protocol.h"
#include "list_eval.h"
#include "list_layout.h"
#include "list_pool.h"
#include "list_chunk.h"
#include "list_cfg.h"
#include "list_privacy.h"
#include "list_threads.h"
#include "list_preauth.h"
#include "list_metrics.h"
#include "list_tf.h"
