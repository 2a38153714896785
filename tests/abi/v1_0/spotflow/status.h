/* spotflow/status.h: status codes returned across the ABI.
 *
 * No exception ever crosses the boundary: a function that fails returns a
 * non-zero status and, where a host is at hand, reports the reason first
 * through spotflow_host::set_error (one line, naming the cause).
 */
#ifndef SPOTFLOW_STATUS_H
#define SPOTFLOW_STATUS_H

#include <stdint.h>

typedef int32_t spotflow_status;

enum {
    SPOTFLOW_OK = 0,
    SPOTFLOW_DONE = 1,              /* a source has no more data (not an error) */
    SPOTFLOW_ERR_INVALID_ARGUMENT = -1, /* bad params, bad input data */
    SPOTFLOW_ERR_IO = -2,           /* a file could not be read or written */
    SPOTFLOW_ERR_FORMAT = -3,       /* a file or packet is corrupt or of the wrong layout */
    SPOTFLOW_ERR_UNSUPPORTED = -4,  /* a dtype, device or feature the plugin does not handle */
    SPOTFLOW_ERR_OUT_OF_MEMORY = -5,
    SPOTFLOW_ERR_CANCELLED = -6,    /* the host asked to stop */
    SPOTFLOW_ERR_INTERNAL = -7      /* a bug: an invariant did not hold */
};

#endif /* SPOTFLOW_STATUS_H */
