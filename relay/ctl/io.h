/*
 * io.h — how posternctl reads a value given as text, @FILE or - (stdin), and
 * writes an output file.
 *
 * Errors: functions write a one-line message (no newline, naming the file or
 * "stdin") to @err and return -errno; posternctl prints it after its prefix.
 * Threads: the main thread only (stdin).
 */
#ifndef POSTERN_RELAY_CTL_IO_H
#define POSTERN_RELAY_CTL_IO_H

#include <stddef.h>

/*
 * Read at most @cap - 1 bytes from @fd into @buf, NUL-terminate them and trim
 * whitespace at both ends. @what names the source in messages.
 * @return 0 and *@len set; -EFBIG if there is more; -errno from read().
 * The caller wipes @buf if it may hold a secret (it is written even on error).
 */
int io_read_fd(int fd, const char *what, char *buf, size_t cap, size_t *len,
	       char *err, size_t errlen);

/*
 * The text an operand stands for: "-" reads stdin, "@PATH" reads the file
 * PATH, anything else is the text itself; the result is trimmed as above.
 * @return 0, -EFBIG (longer than @cap - 1), or the -errno of open()/read().
 */
int io_read_arg(const char *arg, char *buf, size_t cap, size_t *len, char *err, size_t errlen);

/*
 * Write @len bytes to @path, mode 0600, replacing any existing file
 * atomically (a new file beside it, fsync, rename).
 * @return 0 or -errno; on error nothing is left behind and @path is unchanged.
 */
int io_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif /* POSTERN_RELAY_CTL_IO_H */
