/*
 * Time. The only module that reads the clock.
 *
 * In builds with -DAMS_DEBUG (make DEVELOPER=1), AMS_FAKE_TIME=YYYYMMDDTHHMMSSZ
 * fixes the wall clock so tests can compare exact signatures (curl's
 * CURL_FORCETIME). Release builds ignore it.
 */
#ifndef AMS_CLOCK_H
#define AMS_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on a monotonic clock: for timeouts and backoff. */
uint64_t ams_clock_mono_ms(void);
/* Seconds since the epoch, UTC. */
time_t ams_clock_wall(void);

/* "20150830T123600Z" (SigV4 X-Amz-Date); out holds 17 bytes. */
void ams_clock_amz_date(char out[17], time_t t);
/* "2015-08-30T12:36:00Z"; out holds 21 bytes. */
void ams_clock_iso8601(char out[21], time_t t);
/*
 * Parses ISO 8601 UTC timestamps as AWS sends them: "2015-08-30T12:36:00Z",
 * with optional fractional seconds, or a "+00:00" offset; also the compact
 * "20150830T123600Z". Returns false on anything else.
 */
bool ams_clock_parse_iso8601(const char *s, time_t *out);

#endif
