/* err: the error a library call fills in for its caller, and the exit codes. */
#ifndef ERR_H
#define ERR_H

/* Exit codes shared by enc and dna-gen (see README, "Exit codes"). */
enum err_code {
	ERR_OK = 0,
	ERR_NOTFOUND = 1,	/* no such node */
	ERR_USAGE = 2,		/* bad command line or config */
	ERR_UNAVAILABLE = 3,	/* EC2/IMDS unreachable or refusing */
	ERR_FAIL = 4		/* anything else */
};

#define ERR_MSG_MAX 512

struct err {
	enum err_code code;
	char msg[ERR_MSG_MAX];	/* one line, no trailing newline */
};

/* Sets code and a printf-style message (truncated to fit, newlines
 * replaced by spaces). Returns code so callers can `return err_set(...)`.
 * e may be NULL. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message, keeping the code. */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif
