#!/bin/sh
# Static checks: formatting, cppcheck, and functions the project bans.
set -u
cd "$(dirname "$0")/.." || exit 1
status=0
files=$(ls cmd/*.c cmd/*.h src/*.c src/*.h tests/unit/*.c tests/unit/*.h \
	tests/fuzz/*.c 2>/dev/null)

if ! clang-format --dry-run --Werror $files; then
	echo "lint: clang-format: run 'clang-format -i' on the files above" >&2
	status=1
fi

# curl's and git's banned list, plus raw allocation outside xmem.c and
# blocking sleeps in the library (everything runs in the event loop).
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strncat|atoi|atol|atoll|strtok|gmtime|localtime|asctime|ctime|gets|tmpnam|rand|srand)\s*\('
if grep -nE "$banned" $files | grep -v '^tests/unit/'; then
	echo "lint: banned function (see STYLE: use the ams_ helpers)" >&2
	status=1
fi
if grep -nE '\b(malloc|calloc|realloc|strdup|strndup)\s*\(' src/*.c cmd/*.c |
	grep -v '^src/xmem\.c:'; then
	echo "lint: allocate through xmalloc/xcalloc/xreallocarray/xstrdup" >&2
	status=1
fi
if grep -nE '\b(sleep|usleep|nanosleep|select)\s*\(' src/*.c cmd/*.c; then
	echo "lint: no blocking sleeps or select() in the program" >&2
	status=1
fi

if ! cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
	--inline-suppr --suppress=missingIncludeSystem -Isrc cmd src; then
	echo "lint: cppcheck" >&2
	status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
