int spotflow_core_placeholder_build_only = 0;
