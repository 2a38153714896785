/* Every public C header in one strict C99 translation unit, and the ABI's
 * layout as a C compiler sees it (see layout.h). */
#include "spotflow/plugin.h"

#include "spotflow/arrow_c.h"
#include "spotflow/host.h"
#include "spotflow/loss.h"
#include "spotflow/node.h"
#include "spotflow/packet.h"
#include "spotflow/status.h"
#include "spotflow/version.h"

#include "layout.h"

#define AS_VALUE(expr, lp64) expr,
const size_t spotflow_abi_layout_c[] = {SPOTFLOW_ABI_LAYOUT(AS_VALUE)};
