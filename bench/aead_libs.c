/*
 * aead_libs.c — microbenchmark (not a test): the relay's per-packet AEAD
 * (crypto/aead.c, OpenSSL 3 EVP) next to the same two ciphers in the other
 * libraries a Debian 12 host offers, to show what a smaller per-call cost would
 * buy and what it would cost in memory.
 *
 * For each suite, payload size and library it times one packet = seal in place
 * plus open in place, with a 16-byte DATA header as AD and the Noise nonce
 * (4 zero bytes, then the counter: little-endian for ChaCha20-Poly1305,
 * big-endian for AES-256-GCM), over one pre-keyed context per direction. The
 * libraries run in interleaved slices, 5 runs per case; the median TSC ticks
 * per packet, the ratio to crypto/aead.c and the bytes each library keeps per
 * keyed direction are printed.
 *
 *   nettle     always (GnuTLS, which the endpoints link, is built on it)
 *   libsodium  when the build found it (libsodium-dev); its AES-256-GCM only on
 *              CPUs with AES-NI and PCLMUL
 *
 * Before timing, each library's ciphertext and tag of a test packet must equal
 * crypto/aead.c's, byte for byte: the figures compare the same computation.
 *
 *   aead_libs [--seconds S]
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <nettle/chacha-poly1305.h>
#include <nettle/gcm.h>
#include <nettle/memops.h>
#ifdef HAVE_SODIUM
#include <sodium.h>
#endif

#include "crypto/aead.h"

enum {
	RUNS = 5,
	AD_LEN = 16,
	MAX_PAYLOAD = 1400,
	SLICE_PACKETS = 1024,
	WARMUP_PACKETS = 20000,
	MAX_LIBS = 3,
	HEAP_PROBE = 256,	/* contexts created to measure one's heap use */
};

#define DEFAULT_SECONDS 0.2
#define MAX_SECONDS 60.0
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const size_t payload_sizes[] = { 64, 256, 1400 };
static const uint8_t bench_key[32] = {
	0x3c, 0x91, 0x07, 0xe5, 0x58, 0x2d, 0xb4, 0x6a, 0xf1, 0x0e, 0x83, 0x47, 0xcd, 0x19, 0x72,
	0xa8, 0x25, 0x9f, 0x66, 0xd3, 0x0b, 0xe8, 0x41, 0x7c, 0xba, 0x14, 0x5d, 0x90, 0x2e, 0xf7,
	0x63, 0x08,
};
static const uint8_t hdr[AD_LEN] = { 4, 0, 0, 0, 9, 8, 7, 6 };

/* One library, keyed for one suite: seal and open one packet in place. */
struct lib {
	const char *name;
	size_t ctx_bytes;	/* what it keeps per keyed direction */
	void (*seal)(struct lib *l, uint64_t ctr, uint8_t *buf, size_t len);
	bool (*open)(struct lib *l, uint64_t ctr, uint8_t *buf, size_t len);
	bool aes;
	struct aead_ctx *ps, *po;			/* crypto/aead.c */
	struct chacha_poly1305_ctx ncp;			/* nettle; holds only the key */
	struct gcm_aes256_ctx ngcm;
#ifdef HAVE_SODIUM
	crypto_aead_aes256gcm_state sgcm;
#endif
};

__attribute__((noreturn))
static void die(const char *what)
{
	fprintf(stderr, "aead_libs: %s\n", what);
	exit(1);
}

static void nonce(const struct lib *l, uint64_t ctr, uint8_t n[12])
{
	uint64_t c = l->aes ? htobe64(ctr) : htole64(ctr);

	memset(n, 0, 4);
	memcpy(n + 4, &c, 8);
}

/* ---- crypto/aead.c ---- */

static void postern_seal(struct lib *l, uint64_t ctr, uint8_t *buf, size_t len)
{
	if (aead_seal(l->ps, ctr, hdr, AD_LEN, buf, len, buf) != 0)
		die("aead_seal failed");
}

static bool postern_open(struct lib *l, uint64_t ctr, uint8_t *buf, size_t len)
{
	return aead_open(l->po, ctr, hdr, AD_LEN, buf, len + AEAD_TAG_LEN, buf);
}

/* ---- nettle ---- */

static void nettle_seal(struct lib *l, uint64_t ctr, uint8_t *buf, size_t len)
{
	uint8_t n[12];

	nonce(l, ctr, n);
	if (l->aes) {
		gcm_aes256_set_iv(&l->ngcm, sizeof(n), n);
		gcm_aes256_update(&l->ngcm, AD_LEN, hdr);
		gcm_aes256_encrypt(&l->ngcm, len, buf, buf);
		gcm_aes256_digest(&l->ngcm, AEAD_TAG_LEN, buf + len);
	} else {
		chacha_poly1305_set_nonce(&l->ncp, n);
		chacha_poly1305_update(&l->ncp, AD_LEN, hdr);
		chacha_poly1305_encrypt(&l->ncp, len, buf, buf);
		chacha_poly1305_digest(&l->ncp, AEAD_TAG_LEN, buf + len);
	}
}

static bool nettle_open(struct lib *l, uint64_t ctr, uint8_t *buf, size_t len)
{
	uint8_t n[12], tag[AEAD_TAG_LEN];

	nonce(l, ctr, n);
	if (l->aes) {
		gcm_aes256_set_iv(&l->ngcm, sizeof(n), n);
		gcm_aes256_update(&l->ngcm, AD_LEN, hdr);
		gcm_aes256_decrypt(&l->ngcm, len, buf, buf);
		gcm_aes256_digest(&l->ngcm, AEAD_TAG_LEN, tag);
	} else {
		chacha_poly1305_set_nonce(&l->ncp, n);
		chacha_poly1305_update(&l->ncp, AD_LEN, hdr);
		chacha_poly1305_decrypt(&l->ncp, len, buf, buf);
		chacha_poly1305_digest(&l->ncp, AEAD_TAG_LEN, tag);
	}
	return memeql_sec(tag, buf + len, AEAD_TAG_LEN);
}

/* ---- libsodium ---- */

#ifdef HAVE_SODIUM
static void sodium_seal(struct lib *l, uint64_t ctr, uint8_t *buf, size_t len)
{
	uint8_t n[12];
	int rc;

	nonce(l, ctr, n);
	if (l->aes)
		rc = crypto_aead_aes256gcm_encrypt_detached_afternm(buf, buf + len, NULL, buf, len,
								     hdr, AD_LEN, NULL, n,
								     &l->sgcm);
	else
		rc = crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, buf + len, NULL, buf,
									len, hdr, AD_LEN, NULL, n,
									bench_key);
	if (rc != 0)
		die("libsodium seal failed");
}

static bool sodium_open(struct lib *l, uint64_t ctr, uint8_t *buf, size_t len)
{
	uint8_t n[12];

	nonce(l, ctr, n);
	if (l->aes)
		return crypto_aead_aes256gcm_decrypt_detached_afternm(buf, NULL, buf, len,
								      buf + len, hdr, AD_LEN, n,
								      &l->sgcm) == 0;
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf, NULL, buf, len, buf + len,
								  hdr, AD_LEN, n, bench_key) == 0;
}
#endif

/* The libraries for one suite, keyed. @return how many. */
static unsigned libs_create(struct lib *libs, bool aes)
{
	enum suite_id suite = aes ? SUITE_AESGCM_SHA256 : SUITE_CHACHAPOLY_BLAKE2S;
	struct aead_ctx *probe[HEAP_PROBE];
	unsigned n = 0;
	size_t heap;

	memset(libs, 0, MAX_LIBS * sizeof(*libs));
	libs[n] = (struct lib){ .name = "postern (OpenSSL EVP)", .seal = postern_seal,
				.open = postern_open, .aes = aes };
	/*
	 * OpenSSL's contexts are opaque: count what creating them takes from the
	 * heap, after a first one has paid for the process-wide cipher fetch, over
	 * enough of them that malloc's per-thread caches do not hide it.
	 */
	if (aead_ctx_create(&libs[n].ps, suite, bench_key, true))
		die("aead_ctx_create failed");
	heap = mallinfo2().uordblks;
	for (unsigned i = 0; i < HEAP_PROBE; i++)
		if (aead_ctx_create(&probe[i], suite, bench_key, true))
			die("aead_ctx_create failed");
	libs[n].ctx_bytes = (mallinfo2().uordblks - heap) / HEAP_PROBE;
	for (unsigned i = 0; i < HEAP_PROBE; i++)
		aead_ctx_destroy(probe[i]);
	if (aead_ctx_create(&libs[n].po, suite, bench_key, false))
		die("aead_ctx_create failed");
	n++;
	libs[n] = (struct lib){ .name = "nettle", .seal = nettle_seal, .open = nettle_open,
				.aes = aes };
	if (aes) {
		gcm_aes256_set_key(&libs[n].ngcm, bench_key);
		libs[n].ctx_bytes = sizeof(libs[n].ngcm);
	} else {
		chacha_poly1305_set_key(&libs[n].ncp, bench_key);
		libs[n].ctx_bytes = sizeof(libs[n].ncp);
	}
	n++;
#ifdef HAVE_SODIUM
	if (!aes || crypto_aead_aes256gcm_is_available()) {
		libs[n] = (struct lib){ .name = "libsodium", .seal = sodium_seal,
					.open = sodium_open, .aes = aes };
		if (aes) {
			crypto_aead_aes256gcm_beforenm(&libs[n].sgcm, bench_key);
			libs[n].ctx_bytes = sizeof(libs[n].sgcm);
		} else {
			/* The one-shot API takes the key itself on every call. */
			libs[n].ctx_bytes = sizeof(bench_key);
		}
		n++;
	}
#endif
	return n;
}

static void libs_destroy(struct lib *libs)
{
	aead_ctx_destroy(libs[0].ps);
	aead_ctx_destroy(libs[0].po);
}

/* Every library must produce crypto/aead.c's ciphertext and tag, and open it. */
static void cross_check(struct lib *libs, unsigned n, size_t len)
{
	uint8_t ref[MAX_PAYLOAD + AEAD_TAG_LEN], buf[MAX_PAYLOAD + AEAD_TAG_LEN];
	const uint64_t ctr = 0x0102030405060708ull;

	for (size_t i = 0; i < len; i++)
		ref[i] = (uint8_t)(i * 13 + 1);
	memcpy(buf, ref, len);
	libs[0].seal(&libs[0], ctr, ref, len);
	for (unsigned k = 1; k < n; k++) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(i * 13 + 1);
		libs[k].seal(&libs[k], ctr, buf, len);
		if (memcmp(buf, ref, len + AEAD_TAG_LEN) != 0) {
			fprintf(stderr, "aead_libs: %s's %zu-byte packet differs from crypto/aead.c's\n",
				libs[k].name, len);
			exit(1);
		}
		if (!libs[0].open(&libs[0], ctr, buf, len)) {
			fprintf(stderr, "aead_libs: crypto/aead.c cannot open %s's packet\n",
				libs[k].name);
			exit(1);
		}
	}
}

/* ---- timing ---- */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct acc {
	double ns, ticks;
	unsigned long long packets;
};

static void slice(struct lib *l, uint64_t *ctr, uint8_t *buf, size_t len, unsigned n,
		  struct acc *a)
{
	double t0 = now_ns();
	unsigned long long c0 = __rdtsc();

	for (unsigned i = 0; i < n; i++, (*ctr)++) {
		l->seal(l, *ctr, buf, len);
		if (!l->open(l, *ctr, buf, len))
			die("a packet failed to open: the benchmark is broken");
	}
	a->ticks += (double)(__rdtsc() - c0);
	a->ns += now_ns() - t0;
	a->packets += n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median ticks per packet of each library; all interleaved in every run. */
static void bench_case(struct lib *libs, unsigned n, size_t len, double seconds,
		       double *median)
{
	static uint8_t buf[MAX_PAYLOAD + AEAD_TAG_LEN];
	double runs[MAX_LIBS][RUNS];
	uint64_t ctr[MAX_LIBS] = { 0 };

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	for (unsigned k = 0; k < n; k++) {
		struct acc warm = { 0 };

		slice(&libs[k], &ctr[k], buf, len, WARMUP_PACKETS, &warm);
	}
	for (int r = 0; r < RUNS; r++) {
		struct acc a[MAX_LIBS];
		bool done;

		memset(a, 0, sizeof(a));
		do {
			done = true;
			for (unsigned j = 0; j < n; j++) {
				unsigned k = (j + (unsigned)r) % n;	/* who goes first rotates */

				slice(&libs[k], &ctr[k], buf, len, SLICE_PACKETS, &a[k]);
				done &= a[k].ns >= seconds * 1e9;
			}
		} while (!done);
		for (unsigned k = 0; k < n; k++)
			runs[k][r] = a[k].ticks / (double)a[k].packets;
	}
	for (unsigned k = 0; k < n; k++) {
		qsort(runs[k], RUNS, sizeof(double), cmp_double);
		median[k] = runs[k][RUNS / 2];
	}
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aead_libs [--seconds S]\n"
		"\n"
		"Times seal+open of one packet (16-byte AD, in place) through crypto/aead.c\n"
		"(OpenSSL EVP), nettle%s, for ChaCha20-Poly1305 and AES-256-GCM at 64, 256\n"
		"and 1400 bytes, interleaved, %d runs per case; prints median TSC ticks per\n"
		"packet, the ratio to crypto/aead.c and each library's bytes per keyed\n"
		"direction. Each library's output is first checked against crypto/aead.c's.\n"
		"\n"
		"  --seconds S   time each library for S seconds per run (0 < S <= %.0f;\n"
		"                default %.1f)\n"
		"  --help        this text\n"
		"\n"
		"A microbenchmark: pin it (taskset -c N) on a quiet machine.\n",
#ifdef HAVE_SODIUM
		" and libsodium",
#else
		" (libsodium: not found at build time)",
#endif
		RUNS, MAX_SECONDS, DEFAULT_SECONDS);
}

static double parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double seconds = DEFAULT_SECONDS;
	char *end;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			seconds = strtod(optarg, &end);
			if (end == optarg || *end || errno || !isfinite(seconds) || seconds <= 0 ||
			    seconds > MAX_SECONDS) {
				fprintf(stderr, "aead_libs: --seconds wants a number of seconds in "
					"(0, %.0f], got '%s'\nTry 'aead_libs --help'.\n",
					MAX_SECONDS, optarg);
				exit(2);
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "aead_libs: %s needs a value\nTry 'aead_libs --help'.\n",
				argv[optind - 1]);
			exit(2);
		default:
			fprintf(stderr, "aead_libs: unknown option '%s'\nTry 'aead_libs --help'.\n",
				argv[optind - 1]);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "aead_libs: unexpected argument '%s'\nTry 'aead_libs --help'.\n",
			argv[optind]);
		exit(2);
	}
	return seconds;
}

int main(int argc, char **argv)
{
	double seconds = parse_opts(argc, argv);

#ifdef HAVE_SODIUM
	if (sodium_init() < 0)
		die("sodium_init failed");
#endif
	printf("%-18s %5s  %-22s %8s %9s %10s\n", "cipher", "bytes", "library", "ticks",
	       "÷ postern", "ctx bytes");
	for (int aes = 0; aes < 2; aes++) {
		struct lib libs[MAX_LIBS];
		unsigned n = libs_create(libs, aes);

		for (size_t s = 0; s < ARRAY_SIZE(payload_sizes); s++) {
			double median[MAX_LIBS];

			cross_check(libs, n, payload_sizes[s]);
			bench_case(libs, n, payload_sizes[s], seconds, median);
			for (unsigned k = 0; k < n; k++)
				printf("%-18s %5zu  %-22s %8.0f %8.2fx %10zu\n",
				       aes ? "AES-256-GCM" : "ChaCha20-Poly1305", payload_sizes[s],
				       libs[k].name, median[k], median[k] / median[0],
				       libs[k].ctx_bytes);
		}
		libs_destroy(libs);
	}
	printf("\nticks = rdtsc units per packet (one seal + one open, in place).\n"
	       "ctx bytes: what the library keeps per keyed direction (crypto/aead.c: its\n"
	       "struct, the EVP context and OpenSSL's provider context).\n");
	return 0;
}
