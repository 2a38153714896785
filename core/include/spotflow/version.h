/* spotflow/version.h: the ABI version a host and a plugin speak.
 *
 * Rules:
 *  - A host refuses a library whose ABI major differs from its own.
 *  - Within one major, minors only append: new fields at the end of structs,
 *    new functions at the end of tables, new enum values. A field introduced in
 *    minor M is read only when the other side declares a minor >= M, so a host
 *    of a newer minor still loads plugins built for an older one.
 *  - Before calling a host function added in minor M, a plugin checks
 *    host->abi.minor >= M. The host reads a plugin's vtables and
 *    descriptors only up to the minor the library's spotflow_entry.abi
 *    declares, and never calls a function that minor does not have.
 *
 * History:
 *  1.0  the first ABI.
 *  1.1  spotflow_host::publish_output and ::plugin_dir; the "probability"
 *       port type and the stated semantics of "mask" (plugin.h); release
 *       and deleter timing stated (packet.h, arrow_c.h).
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
