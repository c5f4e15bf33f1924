/*
 * cguest exercises WASI preview 1 the way C programs (and Rust's std, which
 * shares wasi-libc) do, and prints a transcript of what it saw. Like
 * goguest it prints only what must be identical on every correct WASI of the
 * xfhost sandbox. The host mounts /inputs (read-only) and /scratch.
 *
 * Commands: scenario (compared with wazero's own WASI), exit N, and
 * portable (behaviour where this package deliberately differs from wazero:
 * real sleeps, poll readiness, old readdir cookies).
 *
 * Rebuild with build.sh; the tests use the committed cguest.wasm.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void report(const char *step, int rc) {
	if (rc < 0) {
		printf("%s: error: %s\n", step, strerror(errno));
	} else {
		printf("%s: ok\n", step);
	}
}

static int write_file(const char *path, const char *data) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		return -1;
	}
	ssize_t n = write(fd, data, strlen(data));
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list prints the sorted names of a directory, "." and ".." included. */
static void list(const char *path) {
	DIR *d = opendir(path);
	if (d == NULL) {
		report("opendir", -1);
		return;
	}
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 64) {
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_str);
	printf("list %s:", path);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void process(int argc, char **argv) {
	printf("argc %d:", argc);
	for (int i = 0; i < argc; i++) {
		printf(" [%s]", argv[i]);
	}
	printf("\n");
	int envc = 0;
	for (char **e = environ; e && *e; e++) {
		envc++;
	}
	printf("environ: %d, HOME=%s\n", envc, getenv("HOME") ? getenv("HOME") : "(unset)");
	char c;
	ssize_t n = read(0, &c, 1);
	printf("stdin read: %zd\n", n);
	printf("stdout isatty: %d\n", isatty(1));
	fprintf(stderr, "to stderr\n");
	report("lseek stdout", (int)lseek(1, 0, SEEK_CUR));
}

static void files(void) {
	int fd = open("/scratch/c.txt", O_RDWR | O_CREAT | O_EXCL, 0600);
	report("create", fd);
	if (fd < 0) {
		return;
	}
	struct iovec out[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
	ssize_t n = writev(fd, out, 3);
	printf("writev: %zd\n", n);
	printf("lseek: %lld\n", (long long)lseek(fd, 1, SEEK_SET));
	char a[2], b[10];
	struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
	n = readv(fd, in, 2);
	printf("readv: %zd %.2s %.*s\n", n, a, (int)(n > 2 ? n - 2 : 0), b);
	n = pwrite(fd, "XY", 2, 3);
	printf("pwrite: %zd\n", n);
	char p[8] = {0};
	n = pread(fd, p, 7, 1);
	printf("pread: %zd %s\n", n, p);
	printf("tell: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
	printf("lseek end: %lld\n", (long long)lseek(fd, -2, SEEK_END));
	report("lseek negative", (int)lseek(fd, -100, SEEK_SET));
	report("ftruncate", ftruncate(fd, 4));
	struct stat st;
	report("fstat", fstat(fd, &st));
	printf("fstat: size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
	report("fsync", fsync(fd));
	report("fdatasync", fdatasync(fd));
	int fl = fcntl(fd, F_GETFL);
	printf("fcntl: append %d rdwr %d\n", (fl & O_APPEND) != 0, (fl & O_ACCMODE) == O_RDWR);
	report("set append", fcntl(fd, F_SETFL, O_APPEND));
	n = write(fd, "++", 2);
	printf("append write: %zd\n", n);
	close(fd);
	report("close again", close(fd));

	FILE *f = fopen("/scratch/c.txt", "r");
	char line[64] = {0};
	if (f != NULL) {
		size_t r = fread(line, 1, sizeof line - 1, f);
		printf("fread: %zu %s\n", r, line);
		fclose(f);
	}
	f = fopen("/scratch/stdio.txt", "w");
	if (f != NULL) {
		fprintf(f, "line %d\n", 1);
		fputs("line 2\n", f);
		fclose(f);
	}
	report("fopen missing", fopen("/scratch/missing", "r") ? 0 : -1);
	report("open excl existing", open("/scratch/c.txt", O_WRONLY | O_CREAT | O_EXCL, 0600));
	report("open dir for writing", open("/scratch", O_WRONLY));
	report("open file as dir", open("/scratch/c.txt", O_RDONLY | O_DIRECTORY));

	report("mkdir", mkdir("/scratch/cd", 0755));
	report("mkdir again", mkdir("/scratch/cd", 0755));
	report("write in dir", write_file("/scratch/cd/x", "x"));
	report("rmdir non-empty", rmdir("/scratch/cd"));
	report("rename", rename("/scratch/cd/x", "/scratch/cd/y"));
	report("rename missing", rename("/scratch/cd/nope", "/scratch/cd/z"));
	report("unlink dir", unlink("/scratch/cd"));
	report("stat", stat("/scratch/cd/y", &st));
	printf("stat: size %lld\n", (long long)st.st_size);
	report("lstat link", lstat("/scratch/rel_link", &st));
	printf("lstat: symlink %d\n", S_ISLNK(st.st_mode));
	char target[64] = {0};
	n = readlink("/scratch/rel_link", target, sizeof target - 1);
	printf("readlink: %zd %s\n", n, n > 0 ? target : "");
	report("readlink escaping", (int)readlink("/scratch/escape_link", target, sizeof target));
	report("symlink", symlink("y", "/scratch/cd/link"));
	report("link", link("/scratch/cd/y", "/scratch/cd/hard"));
	struct timespec ts[2] = {{1600000000, 0}, {1600000000, 0}};
	report("utimensat", utimensat(AT_FDCWD, "/scratch/cd/y", ts, 0));
	stat("/scratch/cd/y", &st);
	printf("mtime: %lld\n", (long long)st.st_mtim.tv_sec);
	list("/scratch/cd");
	report("unlink", unlink("/scratch/cd/y"));
	report("rmdir", rmdir("/scratch/cd"));

	DIR *d = opendir("/scratch");
	if (d != NULL) {
		int count = 0;
		while (readdir(d) != NULL) {
			count++;
		}
		rewinddir(d);
		int again = 0;
		while (readdir(d) != NULL) {
			again++;
		}
		printf("readdir count %d, after rewind %d\n", count, again);
		closedir(d);
	}
	list("/scratch");
	list("/inputs");
}

static void inputs(void) {
	FILE *f = fopen("/inputs/data.txt", "r");
	char buf[64] = {0};
	if (f != NULL) {
		fgets(buf, sizeof buf, f);
		fclose(f);
	}
	printf("input: %s", buf);
	report("write input", write_file("/inputs/data.txt", "x"));
	report("mkdir input", mkdir("/inputs/d", 0755));
	report("unlink input", unlink("/inputs/data.txt"));
}

static void escape(void) {
	const char *paths[] = {"/etc/passwd", "/scratch/../../etc/passwd", "/outside"};
	for (int i = 0; i < 3; i++) {
		int fd = open(paths[i], O_RDONLY);
		report(paths[i], fd);
		if (fd >= 0) {
			close(fd);
		}
	}
	int dir = open("/scratch", O_RDONLY | O_DIRECTORY);
	report("open scratch", dir);
	const char *rel[] = {"..", "../secret", "x/../../secret", "escape_link", "dir_link/secret", "abs_link"};
	for (int i = 0; i < 6; i++) {
		int fd = openat(dir, rel[i], O_RDONLY);
		char step[64];
		snprintf(step, sizeof step, "openat %s", rel[i]);
		report(step, fd);
		if (fd >= 0) {
			close(fd);
		}
	}
	report("mkdirat ..", mkdirat(dir, "../evil", 0755));
	close(dir);
}

static void clocks(void) {
	struct timespec t;
	report("realtime", clock_gettime(CLOCK_REALTIME, &t));
	printf("after 2024: %d\n", t.tv_sec > 1704067200);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("monotonic: %d\n", b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
	report("getres realtime", clock_getres(CLOCK_REALTIME, &t));
	printf("realtime resolution: %ld\n", t.tv_nsec);
	report("getres monotonic", clock_getres(CLOCK_MONOTONIC, &t));
	printf("monotonic resolution: %ld\n", t.tv_nsec);
	unsigned char r1[16] = {0}, r2[16] = {0};
	report("getentropy", getentropy(r1, sizeof r1));
	getentropy(r2, sizeof r2);
	printf("random differs: %d\n", memcmp(r1, r2, sizeof r1) != 0);
}

static long long monotonic_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* portable checks what this package does better than wazero v1.12. */
static void portable(void) {
	long long start = monotonic_ns();
	struct timespec ts = {0, 30000000};
	report("nanosleep", nanosleep(&ts, NULL));
	printf("slept 30ms: %d\n", monotonic_ns() - start >= 30000000);

	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now.tv_nsec += 20000000;
	if (now.tv_nsec >= 1000000000) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000;
	}
	start = monotonic_ns();
	int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL);
	printf("clock_nanosleep abstime: %d, slept 20ms: %d\n", rc, monotonic_ns() - start >= 20000000);

	struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = 1, .events = POLLOUT}};
	start = monotonic_ns();
	int n = poll(fds, 2, 5000);
	printf("poll: %d in %d out %d, quick %d\n", n, (fds[0].revents & POLLIN) != 0,
		(fds[1].revents & POLLOUT) != 0, monotonic_ns() - start < 1000000000);
	start = monotonic_ns();
	n = poll(NULL, 0, 25);
	printf("poll timeout: %d, slept 25ms: %d\n", n, monotonic_ns() - start >= 25000000);

	/* telldir/seekdir back to an early position of a directory too big
	 * for one fd_readdir buffer. */
	mkdir("/scratch/many", 0755);
	char path[128];
	for (int i = 0; i < 400; i++) {
		snprintf(path, sizeof path, "/scratch/many/entry-with-a-longish-name-%03d", i);
		write_file(path, "");
	}
	DIR *d = opendir("/scratch/many");
	if (d == NULL) {
		report("opendir many", -1);
		return;
	}
	for (int i = 0; i < 5; i++) {
		readdir(d);
	}
	long pos = telldir(d);
	struct dirent *e = readdir(d);
	char first[256];
	snprintf(first, sizeof first, "%s", e ? e->d_name : "(none)");
	int rest = 0;
	while (readdir(d) != NULL) {
		rest++;
	}
	seekdir(d, pos);
	errno = 0;
	e = readdir(d);
	printf("seekdir back: same entry %d (errno %d), %d more entries\n",
		e != NULL && strcmp(e->d_name, first) == 0, errno, rest);
	closedir(d);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: cguest scenario|portable|exit N\n");
		return 64;
	}
	if (strcmp(argv[1], "scenario") == 0) {
		process(argc, argv);
		files();
		inputs();
		escape();
		clocks();
	} else if (strcmp(argv[1], "portable") == 0) {
		portable();
	} else if (strcmp(argv[1], "exit") == 0 && argc > 2) {
		printf("exiting with %d\n", atoi(argv[2]));
		fflush(stdout);
		exit(atoi(argv[2]));
	} else {
		fprintf(stderr, "unknown command %s\n", argv[1]);
		return 64;
	}
	return 0;
}
