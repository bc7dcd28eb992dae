// tokki/core/thread_annotations.h — clang's thread-safety annotations (-Wthread-safety).
// Members guarded by a mutex say so with TOKKI_GUARDED_BY(mu_); clang checks every access
// once the guarded mutexes are capability types (planned: tools/check/thread_safety.sh).
// Other compilers ignore them.
#pragma once

#if defined(__clang__)
#define TOKKI_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TOKKI_THREAD_ANNOTATION(x)
#endif

#define TOKKI_GUARDED_BY(x) TOKKI_THREAD_ANNOTATION(guarded_by(x))
#define TOKKI_PT_GUARDED_BY(x) TOKKI_THREAD_ANNOTATION(pt_guarded_by(x))
#define TOKKI_REQUIRES(...) TOKKI_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define TOKKI_EXCLUDES(...) TOKKI_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define TOKKI_NO_THREAD_SAFETY_ANALYSIS TOKKI_THREAD_ANNOTATION(no_thread_safety_analysis)
