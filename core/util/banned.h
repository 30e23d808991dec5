/*
 * Functions that invite overflows or hidden state are poisoned here, as git
 * does in banned.h: use snprintf, cnai_buf, strtol/strtod and localtime_r.
 * Included after the system headers by every .c file of ours: a macro
 * defined before them would rewrite their prototypes.
 */
#ifndef CNAI_CORE_UTIL_BANNED_H
#define CNAI_CORE_UTIL_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atof
#define atof(x) BANNED(atof)

#endif
