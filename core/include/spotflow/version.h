/* spotflow/version.h: the ABI version a host and a plugin speak.
 *
 * Rules:
 *  - A host refuses a library whose ABI major differs from its own.
 *  - Within one major, minors only append: new fields at the end of structs,
 *    new functions at the end of tables, new enum values. A field introduced in
 *    minor M is read only when the other side declares a minor >= M, so a host
 *    of a newer minor still loads plugins built for an older one.
 */
#ifndef SPOTFLOW_VERSION_H
#define SPOTFLOW_VERSION_H

#include <stdint.h>

#define SPOTFLOW_ABI_MAJOR 1
#define SPOTFLOW_ABI_MINOR 1

typedef struct spotflow_abi_version {
    uint32_t major;
    uint32_t minor;
} spotflow_abi_version;

#define SPOTFLOW_ABI_VERSION_INIT { SPOTFLOW_ABI_MAJOR, SPOTFLOW_ABI_MINOR }

#endif /* SPOTFLOW_VERSION_H */
