/* Libraries the loader must refuse, each for one reason. Built once per
 * reason with a -D flag. */
#include "spotflow/plugin.h"

#if defined(BAD_NO_ENTRY)
SPOTFLOW_EXPORT int not_a_spotflow_plugin = 1;

#elif defined(BAD_ABI_MAJOR)
static uint32_t count(void) { return 0; }
static const spotflow_plugin_desc* at(uint32_t i) { (void)i; return 0; }
SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {{SPOTFLOW_ABI_MAJOR + 1, 0}, count, at};

#elif defined(BAD_DESCRIPTOR)
static void* create(const spotflow_host* h, const char* p) { (void)h; (void)p; return 0; }
static spotflow_status finish(void* s, const spotflow_emitter* o) { (void)s; (void)o; return 0; }
static void destroy(void* s) { (void)s; }
static const spotflow_node_vtable vt = {create, 0, 0, finish, destroy};
/* A source without pull, and an id with capitals. */
static const spotflow_plugin_desc desc = {"Bad.Id", "1.0.0", "broken", "source", 0, 0, 0, 0, "{}", &vt, 0};
static uint32_t count(void) { return 1; }
static const spotflow_plugin_desc* at(uint32_t i) { return i == 0 ? &desc : 0; }
SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, count, at};
#endif
