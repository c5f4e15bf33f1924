/*
 * Bench.Loop: guest compute speed. It runs the xorshift64 generator
 * (Marsaglia 2003, shifts 13, 7, 17) n steps from a fixed seed and outputs
 * the sum of its states modulo 2^64, shifted right by one bit so that it
 * fits an Int. Each step depends on the previous one and the sum has no
 * closed form, so no compiler can shorten the loop: the time it takes is
 * the engine's speed on plain integer code.
 */
#include "../xf/xf.h"

static uint64_t xorshift_sum(int64_t n) {
	uint64_t x = 0x9E3779B97F4A7C15u, sum = 0;
	for (int64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x;
	}
	return sum;
}

static bool loop(xf_job *job) {
	int64_t n;
	if (!xf_input_int(job, "n", &n))
		return false;
	return xf_set_output_int(job, "sum", (int64_t)(xorshift_sum(n) >> 1));
}

int main(void) { xf_run(loop); }
