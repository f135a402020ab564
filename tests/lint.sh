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
# clang-tidy: bugprone-*, cert-* and the clang static analyzer, errors
# on any finding. Left out, because they flag the project's deliberate
# idioms rather than defects:
#   bugprone-easily-swappable-parameters  out-params first, then inputs of
#       one type (region, action) is how every API here reads;
#   bugprone-implicit-widening-of-multiplication-result  fires on constant
#       limits such as 16u * 1024 * 1024, which cannot overflow;
#   bugprone-narrowing-conversions  tolower()/toupper() on ASCII back to
#       char;
#   bugprone-not-null-terminated-result  memcpy into byte buffers that are
#       not strings (the SigV4 key);
#   bugprone-sizeof-expression  clang-tidy 14 takes sizeof(*p) for an
#       array of pointers as sizeof of a pointer; the compiler's
#       -Wsizeof-pointer-div and -Wsizeof-pointer-memaccess (-Wall) and
#       ARRAY_SIZE cover the real mistake;
#   cert-err33-c  the results of fputc/fwrite/fflush on stdout and stderr
#       and of snprintf into fixed error buffers (truncation is intended)
#       are not used;
#   clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling
#       asks for the Annex K *_s functions, which glibc does not have.
# And an option: `!strcmp(a, b)` is the house style for equality
# (suspicious-string-compare still checks comparisons with wrong
# constants).
# Set AMS_LINT_TIDY=0 to skip (it takes a while).
tidy_checks='-*,bugprone-*,cert-*,clang-analyzer-*,'\
'-bugprone-easily-swappable-parameters,'\
'-bugprone-implicit-widening-of-multiplication-result,'\
'-bugprone-narrowing-conversions,-bugprone-not-null-terminated-result,'\
'-bugprone-sizeof-expression,-cert-err33-c,'\
'-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling'
tidy_config="{Checks: '$tidy_checks', WarningsAsErrors: '*',
  CheckOptions: [
    {key: bugprone-suspicious-string-compare.WarnOnImplicitComparison,
     value: false}]}"
if [ "${AMS_LINT_TIDY:-1}" != 0 ]; then
	# shellcheck disable=SC2046
	tidy_flags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc
		-DAMS_VERSION=\"lint\" -DAMS_DEBUG
		$(pkg-config --cflags libcurl libcrypto libxml-2.0 libgit2 libcjson)"
	# shellcheck disable=SC2086
	if ! ls cmd/*.c src/*.c tests/fuzz/*.c | xargs -P "$(nproc)" -I{} \
		clang-tidy --quiet --config="$tidy_config" {} \
		-- $tidy_flags >.lint-tidy.out 2>/dev/null ||
		[ -s .lint-tidy.out ]; then
		cat .lint-tidy.out
		echo "lint: clang-tidy" >&2
		status=1
	fi
	rm -f .lint-tidy.out
fi

[ $status -eq 0 ] && echo "lint: clean"
exit $status
