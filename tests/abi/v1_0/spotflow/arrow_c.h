/* spotflow/arrow_c.h: the Arrow C Data Interface, as published by Apache Arrow
 * (docs/format/CDataInterface.rst). Tables cross the spotflow ABI as one
 * ArrowSchema + one ArrowArray describing a struct ("+s") record batch.
 *
 * The definitions below follow the published spec to the letter and keep its
 * include guard, so this header coexists with Arrow's own abi.h or nanoarrow.
 *
 * Ownership (from the spec):
 *  - The consumer allocates the base struct; the producer owns everything it
 *    points to and provides `release`.
 *  - The consumer calls only the base struct's `release`; `release` frees the
 *    children and the dictionary and then sets itself to NULL.
 *  - A released struct has release == NULL. Moving a struct is a bitwise copy
 *    followed by setting the source's release to NULL.
 *  - Data is immutable once published.
 */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#include <stdint.h>

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

#ifdef __cplusplus
extern "C" {
#endif

struct ArrowSchema {
    /* Array type description */
    const char* format;
    const char* name;
    const char* metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema** children;
    struct ArrowSchema* dictionary;

    /* Release callback */
    void (*release)(struct ArrowSchema*);
    /* Opaque producer-specific data */
    void* private_data;
};

struct ArrowArray {
    /* Array data description */
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void** buffers;
    struct ArrowArray** children;
    struct ArrowArray* dictionary;

    /* Release callback */
    void (*release)(struct ArrowArray*);
    /* Opaque producer-specific data */
    void* private_data;
};

#ifdef __cplusplus
}
#endif

#endif /* ARROW_C_DATA_INTERFACE */
