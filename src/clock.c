/*
 * Monotonic and wall clocks, timestamp formatting and parsing.
 */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t ams_clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

time_t ams_clock_wall(void)
{
#ifdef AMS_DEBUG
	const char *fake = getenv("AMS_FAKE_TIME");
	time_t t;

	if (fake && *fake && ams_clock_parse_iso8601(fake, &t))
		return t;
#endif
	return time(NULL);
}

void ams_clock_amz_date(char out[17], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void ams_clock_iso8601(char out[21], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long)era * 146097 + doe - 719468;
}

bool ams_clock_parse_iso8601(const char *s, time_t *out)
{
	int y, mo, d, h, mi, se;
	const char *p;

	if (strlen(s) == 16 && s[8] == 'T' && s[15] == 'Z') {
		if (!digits(s, 4, &y) || !digits(s + 4, 2, &mo) ||
		    !digits(s + 6, 2, &d) || !digits(s + 9, 2, &h) ||
		    !digits(s + 11, 2, &mi) || !digits(s + 13, 2, &se))
			return false;
		p = s + 15;
	} else {
		if (strlen(s) < 19 || s[4] != '-' || s[7] != '-' ||
		    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		    s[13] != ':' || s[16] != ':')
			return false;
		if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
		    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
		    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
			return false;
		p = s + 19;
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				return false;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (strcmp(p, "Z") && strcmp(p, "z") && strcmp(p, "+00:00"))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return false;
	*out = (time_t)(days_from_civil(y, mo, d) * 86400L + h * 3600L +
			mi * 60L + se);
	return true;
}
