// valix-test-no-answer SERVICE USER [--die]: pam_authenticate with a conversation that shows
// messages but fails every prompt (PAM_CONV_ERR), as a client that disconnects at a prompt
// does; with --die, the process kills itself at the first prompt instead (SIGKILL), as sshd's
// child may be killed, or a user may kill their own su. pamtester can do neither (at the end of
// its input it answers with an empty line).
// Exit 0 when authentication succeeds, 1 when it fails, 2 when PAM cannot start.
#include <security/pam_appl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int die_at_prompt;

static int no_answers(int count, const struct pam_message** messages,
                      struct pam_response** responses, void* data) {
  (void)data;
  for (int i = 0; i < count; ++i) {
    if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
        messages[i]->msg_style == PAM_PROMPT_ECHO_ON) {
      printf("prompt refused: %s\n", messages[i]->msg);
      fflush(stdout);
      if (die_at_prompt) raise(SIGKILL);
      return PAM_CONV_ERR;
    }
  }
  for (int i = 0; i < count; ++i) printf("%s\n", messages[i]->msg);
  *responses = NULL;
  return PAM_CONV_ERR;
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[3], "--die") == 0) {
    die_at_prompt = 1;
  } else if (argc != 3) {
    fprintf(stderr, "usage: valix-test-no-answer SERVICE USER [--die]\n");
    return 2;
  }
  const struct pam_conv conv = {no_answers, NULL};
  pam_handle_t* pamh = NULL;
  if (pam_start(argv[1], argv[2], &conv, &pamh) != PAM_SUCCESS) return 2;
  const int rc = pam_authenticate(pamh, 0);
  pam_end(pamh, rc);
  return rc == PAM_SUCCESS ? 0 : 1;
}
