extern "C" int pam_valix_placeholder() { return 0; }
