// tokki/core/thread_annotations.h — clang's thread-safety annotations (-Wthread-safety).
// Members guarded by a mutex say so with TOKKI_GUARDED_BY(mu_); clang checks every access
// (tools/check/thread_safety.sh, run by `make test`). Other compilers ignore them.
// The mutex must be a tokki::Mutex or tokki::SharedMutex (core/mutex.h): std::mutex is not
// a capability, so annotations naming one check nothing.
#pragma once

#if defined(__clang__)
#define TOKKI_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TOKKI_THREAD_ANNOTATION(x)
#endif

// On members and variables.
#define TOKKI_GUARDED_BY(x) TOKKI_THREAD_ANNOTATION(guarded_by(x))
#define TOKKI_PT_GUARDED_BY(x) TOKKI_THREAD_ANNOTATION(pt_guarded_by(x))

// On functions: the caller must hold (REQUIRES) or must not hold (EXCLUDES) the lock.
#define TOKKI_REQUIRES(...) TOKKI_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define TOKKI_REQUIRES_SHARED(...) TOKKI_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define TOKKI_EXCLUDES(...) TOKKI_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// Turns the analysis off for one function; say why next to it.
#define TOKKI_NO_THREAD_SAFETY_ANALYSIS TOKKI_THREAD_ANNOTATION(no_thread_safety_analysis)

// For lock types (core/mutex.h).
#define TOKKI_CAPABILITY(x) TOKKI_THREAD_ANNOTATION(capability(x))
#define TOKKI_SCOPED_CAPABILITY TOKKI_THREAD_ANNOTATION(scoped_lockable)
#define TOKKI_ACQUIRE(...) TOKKI_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define TOKKI_ACQUIRE_SHARED(...) TOKKI_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define TOKKI_RELEASE(...) TOKKI_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TOKKI_RELEASE_SHARED(...) TOKKI_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define TOKKI_RELEASE_GENERIC(...) TOKKI_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TOKKI_TRY_ACQUIRE(...) TOKKI_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define TOKKI_ASSERT_CAPABILITY(x) TOKKI_THREAD_ANNOTATION(assert_capability(x))
#define TOKKI_ASSERT_SHARED_CAPABILITY(x) TOKKI_THREAD_ANNOTATION(assert_shared_capability(x))
#define TOKKI_RETURN_CAPABILITY(x) TOKKI_THREAD_ANNOTATION(lock_returned(x))
