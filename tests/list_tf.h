/* SPDX-License-Identifier: MIT */
X(nl_recip, 60)
X(nl_rsqrt, 60)
X(nl_newton_below_range, 30)
X(nl_exp, 60)
X(nl_pwl_plain_bounds, 30)
X(nl_erf_tanh_gelu, 120)
