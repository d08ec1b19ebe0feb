/*
 * aead_bench.c — microbenchmark (not a test) of the transport AEAD.
 *
 * For each suite and payload size it times one packet = aead_seal() in place
 * then aead_open() in place, with a 16-byte DATA header as AD, and in the same
 * run the cheapest correct raw EVP equivalent: one pre-keyed EVP_CIPHER_CTX per
 * direction, only the IV set per packet. Each case runs 5 times, ours and raw
 * interleaved in short slices; the median ns/packet, the ratio ours/raw (goal
 * <= 1.3) and the TSC ticks/packet are reported.
 *
 *   aead_bench [--seconds S | --iterations N] [--json]
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/aead.h"

enum {
	RUNS = 5,
	AD_LEN = 16,
	MAX_PAYLOAD = 1400,
	SLICE_PACKETS = 2048,		/* ours and raw alternate in slices of this many */
	WARMUP_PACKETS = 20000,
};

#define DEFAULT_SECONDS 0.5
#define MAX_SECONDS 3600.0
#define MAX_ITERATIONS 1000000000ULL

static const size_t payload_sizes[] = { 64, 256, 1400 };

static const struct {
	enum suite_id id;
	const char *name;	/* short, for JSON */
	const char *cipher;	/* OpenSSL name */
} suites[] = {
	{ SUITE_CHACHAPOLY_BLAKE2S, "chachapoly", "ChaCha20-Poly1305" },
	{ SUITE_AESGCM_SHA256, "aesgcm", "AES-256-GCM" },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct opts {
	double seconds;			/* > 0 in timed mode */
	unsigned long long iterations;	/* > 0 in fixed-count mode */
	bool json;
};

/* One implementation under test: either aead.h or raw EVP, keyed once. */
struct impl {
	struct aead_ctx *seal, *open;		/* ours */
	EVP_CIPHER_CTX *enc, *dec;		/* raw */
	bool nonce_be;
};

struct sample {
	double ns;		/* per packet */
	double ticks;		/* TSC ticks per packet */
	unsigned long long packets;
};

struct result {
	double ours_ns, raw_ns, ours_ticks, raw_ticks;
	unsigned long long ours_packets, raw_packets;	/* median run's packet count */
};

static const uint8_t bench_key[32] = {
	0x5f, 0x2a, 0x91, 0x0c, 0x77, 0xe4, 0x3b, 0xd8, 0x16, 0xa0, 0x4e, 0xc9, 0x82, 0x35, 0xf7,
	0x6b, 0x09, 0xbe, 0x54, 0x1d, 0xe2, 0x7a, 0xc3, 0x48, 0x90, 0x2f, 0x66, 0xdb, 0x13, 0xac,
	0x71, 0x05,
};
static const uint8_t hdr[AD_LEN] = { 4, 0, 0, 0, 1, 2, 3, 4 };

__attribute__((noreturn))
static void die(const char *what)
{
	fprintf(stderr, "aead_bench: %s\n", what);
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- the two implementations, one packet each ---- */

static bool ours_packet(struct impl *im, uint64_t ctr, uint8_t *buf, size_t len)
{
	if (aead_seal(im->seal, ctr, hdr, AD_LEN, buf, len, buf) != 0)
		return false;
	return aead_open(im->open, ctr, hdr, AD_LEN, buf, len + AEAD_TAG_LEN, buf);
}

/* The cheapest correct EVP usage: IV-only re-init of a keyed context. */
static bool raw_packet(struct impl *im, uint64_t ctr, uint8_t *buf, size_t len)
{
	uint64_t n = im->nonce_be ? htobe64(ctr) : htole64(ctr);
	uint8_t iv[12] = { 0 };
	int outl;

	memcpy(iv + 4, &n, sizeof(n));
	if (!EVP_EncryptInit_ex(im->enc, NULL, NULL, NULL, iv) ||
	    !EVP_EncryptUpdate(im->enc, NULL, &outl, hdr, AD_LEN) ||
	    !EVP_EncryptUpdate(im->enc, buf, &outl, buf, (int)len) ||
	    !EVP_EncryptFinal_ex(im->enc, buf + len, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(im->enc, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, buf + len))
		return false;
	return EVP_DecryptInit_ex(im->dec, NULL, NULL, NULL, iv) &&
	       EVP_CIPHER_CTX_ctrl(im->dec, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, buf + len) &&
	       EVP_DecryptUpdate(im->dec, NULL, &outl, hdr, AD_LEN) &&
	       EVP_DecryptUpdate(im->dec, buf, &outl, buf, (int)len) &&
	       EVP_DecryptFinal_ex(im->dec, buf + len, &outl) > 0;
}

typedef bool (*packet_fn)(struct impl *im, uint64_t ctr, uint8_t *buf, size_t len);

static void impl_create(struct impl *im, enum suite_id suite, const char *cipher_name)
{
	EVP_CIPHER *cipher;
	int ret;

	memset(im, 0, sizeof(*im));
	im->nonce_be = suite == SUITE_AESGCM_SHA256;
	ret = aead_ctx_create(&im->seal, suite, bench_key, true);
	if (ret == 0)
		ret = aead_ctx_create(&im->open, suite, bench_key, false);
	if (ret != 0) {
		fprintf(stderr, "aead_bench: aead_ctx_create(%s): %s\n", cipher_name,
			strerror(-ret));
		exit(1);
	}
	cipher = EVP_CIPHER_fetch(NULL, cipher_name, NULL);
	im->enc = EVP_CIPHER_CTX_new();
	im->dec = EVP_CIPHER_CTX_new();
	if (!cipher || !im->enc || !im->dec ||
	    !EVP_EncryptInit_ex(im->enc, cipher, NULL, bench_key, NULL) ||
	    !EVP_DecryptInit_ex(im->dec, cipher, NULL, bench_key, NULL))
		die("cannot set up the raw EVP contexts");
	EVP_CIPHER_free(cipher);
}

static void impl_destroy(struct impl *im)
{
	aead_ctx_destroy(im->seal);
	aead_ctx_destroy(im->open);
	EVP_CIPHER_CTX_free(im->enc);
	EVP_CIPHER_CTX_free(im->dec);
}

/* Time @n packets of @fn, adding to @acc. The counter only ever increases. */
static void slice(packet_fn fn, struct impl *im, uint64_t *ctr, uint8_t *buf, size_t len,
		  unsigned long long n, struct sample *acc)
{
	unsigned long long c0, c1;
	double t0, t1;

	t0 = now_ns();
	c0 = __rdtsc();
	for (unsigned long long i = 0; i < n; i++)
		if (!fn(im, (*ctr)++, buf, len))
			die("a packet failed to open: the benchmark is broken");
	c1 = __rdtsc();
	t1 = now_ns();
	acc->ns += t1 - t0;
	acc->ticks += (double)(c1 - c0);
	acc->packets += n;
}

/*
 * One run of both implementations: alternating slices of SLICE_PACKETS each
 * (who goes first alternates too), so a noisy neighbour or a frequency change
 * hits ours and raw alike. Each side gets @o->iterations packets, or about
 * @o->seconds of measured time.
 */
static void run_pair(struct impl *im, uint64_t ctr[2], uint8_t *buf, size_t len,
		     const struct opts *o, struct sample *ours, struct sample *raw)
{
	unsigned long long left = o->iterations;
	struct sample acc[2];
	static const packet_fn fns[2] = { ours_packet, raw_packet };

	memset(acc, 0, sizeof(acc));
	for (unsigned k = 0;; k++) {
		unsigned long long n = SLICE_PACKETS;

		if (o->iterations) {
			if (!left)
				break;
			n = left < n ? left : n;
			left -= n;
		} else if (acc[0].ns >= o->seconds * 1e9 && acc[1].ns >= o->seconds * 1e9) {
			break;
		}
		slice(fns[k % 2], im, &ctr[k % 2], buf, len, n, &acc[k % 2]);
		slice(fns[1 - k % 2], im, &ctr[1 - k % 2], buf, len, n, &acc[1 - k % 2]);
	}
	for (int i = 0; i < 2; i++) {
		acc[i].ns /= (double)acc[i].packets;
		acc[i].ticks /= (double)acc[i].packets;
	}
	*ours = acc[0];
	*raw = acc[1];
}

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	return (x->ns > y->ns) - (x->ns < y->ns);
}

static struct result bench_case(enum suite_id suite, const char *cipher_name, size_t len,
				const struct opts *o)
{
	static uint8_t buf[MAX_PAYLOAD + AEAD_TAG_LEN];
	struct sample ours[RUNS], raw[RUNS], skip[2];
	struct opts warm = { .iterations = WARMUP_PACKETS };
	uint64_t ctr[2] = { 0, 0 };
	struct result r;
	struct impl im;

	impl_create(&im, suite, cipher_name);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	run_pair(&im, ctr, buf, len, &warm, &skip[0], &skip[1]);
	for (int i = 0; i < RUNS; i++)
		run_pair(&im, ctr, buf, len, o, &ours[i], &raw[i]);
	impl_destroy(&im);

	qsort(ours, RUNS, sizeof(ours[0]), cmp_sample);
	qsort(raw, RUNS, sizeof(raw[0]), cmp_sample);
	r.ours_ns = ours[RUNS / 2].ns;
	r.ours_ticks = ours[RUNS / 2].ticks;
	r.ours_packets = ours[RUNS / 2].packets;
	r.raw_ns = raw[RUNS / 2].ns;
	r.raw_ticks = raw[RUNS / 2].ticks;
	r.raw_packets = raw[RUNS / 2].packets;
	return r;
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aead_bench [--seconds S | --iterations N] [--json]\n"
		"\n"
		"Times seal+open of one packet (16-byte AD) through aead_seal/aead_open and\n"
		"through raw pre-keyed EVP contexts, for ChaCha20-Poly1305 and AES-256-GCM\n"
		"at 64, 256 and 1400 bytes. Each case runs %d times; medians are reported.\n"
		"\n"
		"  --seconds S      time each run for S seconds (0 < S <= %.0f; default %.1f)\n"
		"  --iterations N   run exactly N packets per run instead (1..%llu)\n"
		"  --json           machine-readable output on stdout\n"
		"  --help           this text\n"
		"\n"
		"ticks = rdtsc units (constant-rate TSC), not core cycles under turbo.\n"
		"A microbenchmark: pin it (taskset -c N) on a quiet machine for stable numbers.\n",
		RUNS, MAX_SECONDS, DEFAULT_SECONDS, MAX_ITERATIONS);
}

/* A user error: say what was wrong, point at --help, exit 2. */
__attribute__((format(printf, 1, 2), noreturn))
static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "aead_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'aead_bench --help'.\n");
	exit(2);
}

static double parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v <= 0 || v > MAX_SECONDS)
		bad_usage("--seconds wants a number of seconds in (0, 3600], got '%s'", s);
	return v;
}

static unsigned long long parse_iterations(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	/* strtoull accepts "-5" and " 5"; only plain digits are a count here. */
	v = (*s >= '0' && *s <= '9') ? strtoull(s, &end, 10) : 0;
	if (!v || *end || errno || v > MAX_ITERATIONS)
		bad_usage("--iterations wants a whole number from 1 to 1000000000, got '%s'", s);
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool seconds_set = false;
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = parse_seconds(optarg);
			seconds_set = true;
			break;
		case 'n':
			o->iterations = parse_iterations(optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (seconds_set && o->iterations)
		bad_usage("--seconds and --iterations are mutually exclusive");
	if (!o->iterations && !seconds_set)
		o->seconds = DEFAULT_SECONDS;
}

/* ---- output ---- */

static void print_json(const struct opts *o, struct result res[][ARRAY_SIZE(payload_sizes)])
{
	printf("{\"openssl\": \"%s\", \"runs\": %d, \"ad_bytes\": %d, ",
	       OpenSSL_version(OPENSSL_VERSION), RUNS, AD_LEN);
	if (o->iterations)
		printf("\"iterations\": %llu, \"seconds\": null,\n", o->iterations);
	else
		printf("\"iterations\": null, \"seconds\": %g,\n", o->seconds);
	printf(" \"results\": [\n");
	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		for (size_t z = 0; z < ARRAY_SIZE(payload_sizes); z++) {
			const struct result *r = &res[s][z];
			bool last = s + 1 == ARRAY_SIZE(suites) &&
				    z + 1 == ARRAY_SIZE(payload_sizes);

			printf("  {\"suite\": \"%s\", \"cipher\": \"%s\", \"bytes\": %zu, "
			       "\"ours_ns\": %.1f, \"raw_ns\": %.1f, \"ratio\": %.3f, "
			       "\"ours_ticks\": %.0f, \"raw_ticks\": %.0f, "
			       "\"ours_packets\": %llu, \"raw_packets\": %llu}%s\n",
			       suites[s].name, suites[s].cipher, payload_sizes[z], r->ours_ns,
			       r->raw_ns, r->ours_ns / r->raw_ns, r->ours_ticks, r->raw_ticks,
			       r->ours_packets, r->raw_packets, last ? "" : ",");
		}
	}
	printf(" ]}\n");
}

static void print_table(const struct opts *o, struct result res[][ARRAY_SIZE(payload_sizes)])
{
	printf("aead_bench: %s; seal+open in place, %d-byte AD; median of %d runs of ",
	       OpenSSL_version(OPENSSL_VERSION), AD_LEN, RUNS);
	if (o->iterations)
		printf("%llu packets\n\n", o->iterations);
	else
		printf("%g s\n\n", o->seconds);
	printf("%-18s %6s %10s %10s %9s %11s %11s\n", "cipher", "bytes", "ours ns", "raw ns",
	       "ours/raw", "ours ticks", "raw ticks");
	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		for (size_t z = 0; z < ARRAY_SIZE(payload_sizes); z++) {
			const struct result *r = &res[s][z];
			double ratio = r->ours_ns / r->raw_ns;

			printf("%-18s %6zu %10.1f %10.1f %8.3fx %11.0f %11.0f%s\n",
			       suites[s].cipher, payload_sizes[z], r->ours_ns, r->raw_ns, ratio,
			       r->ours_ticks, r->raw_ticks, ratio > 1.3 ? "  > 1.3 goal" : "");
		}
	}
	printf("\nns and ticks are per packet (one seal + one open); ticks = rdtsc.\n");
}

int main(int argc, char **argv)
{
	struct result res[ARRAY_SIZE(suites)][ARRAY_SIZE(payload_sizes)];
	struct opts o;

	parse_opts(argc, argv, &o);
	for (size_t s = 0; s < ARRAY_SIZE(suites); s++)
		for (size_t z = 0; z < ARRAY_SIZE(payload_sizes); z++)
			res[s][z] = bench_case(suites[s].id, suites[s].cipher,
					       payload_sizes[z], &o);
	if (o.json)
		print_json(&o, res);
	else
		print_table(&o, res);
	return 0;
}
