#include "ldap_client.hpp"

#include <fcntl.h>
#include <ldap.h>
#include <signal.h>
#include <strings.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <type_traits>

#include "file_util.hpp"
#include "lazy_library.hpp"

namespace valix {
namespace {

constexpr int kPageSize = 500;

// RFC 6171 "Don't Use Copy", critical, on every read: a read-only consumer cut off from its
// provider (or still loading) would answer from an old copy, and someone who enrolled since
// would look unenrolled there. With the control a consumer that chains passes the read on to
// the provider, and one that cannot refuses it (the login is then denied).
char kDontUseCopyOid[] = "1.3.6.1.1.22";
LDAPControl dont_use_copy{kDontUseCopyOid, {0, nullptr}, 1};
constexpr std::size_t kMaxPasswordFileSize = 1024;
constexpr const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

// The libldap functions we call, resolved once from the library the core was built against.
struct Api {
  decltype(&ldap_initialize) initialize;
  decltype(&ldap_set_option) set_option;
  decltype(&ldap_get_option) get_option;
  decltype(&ldap_start_tls_s) start_tls_s;
  decltype(&ldap_sasl_bind_s) sasl_bind_s;
  decltype(&ldap_unbind_ext_s) unbind_ext_s;
  decltype(&ldap_search_ext_s) search_ext_s;
  decltype(&ldap_first_entry) first_entry;
  decltype(&ldap_next_entry) next_entry;
  decltype(&ldap_get_values_len) get_values_len;
  decltype(&ldap_value_free_len) value_free_len;
  decltype(&ldap_msgfree) msgfree;
  decltype(&ldap_get_dn) get_dn;
  decltype(&ldap_memfree) memfree;
  decltype(&ldap_parse_result) parse_result;
  decltype(&ldap_modify_ext_s) modify_ext_s;
  decltype(&ldap_add_ext_s) add_ext_s;
  decltype(&ldap_rename_s) rename_s;
  decltype(&ldap_delete_ext_s) delete_ext_s;
  decltype(&ldap_err2string) err2string;
  decltype(&ldap_create_page_control) create_page_control;
  decltype(&ldap_parse_pageresponse_control) parse_pageresponse_control;
  decltype(&ldap_control_find) control_find;
  decltype(&ldap_control_free) control_free;
  decltype(&ldap_controls_free) controls_free;
};

Result<const Api*> api() {
  static Api loaded{};
  static bool ready = false;
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  if (ready) return &loaded;
  LazyLibrary& lib = libldap_library();
  Api a{};
  Result<void> ok;
  auto get = [&](auto& field, const char* name) {
    if (!ok) return;
    auto f = lib.function<std::remove_pointer_t<std::remove_reference_t<decltype(field)>>>(name);
    if (!f) {
      ok = std::unexpected(f.error());
      return;
    }
    field = *f;
  };
  get(a.initialize, "ldap_initialize");
  get(a.set_option, "ldap_set_option");
  get(a.get_option, "ldap_get_option");
  get(a.start_tls_s, "ldap_start_tls_s");
  get(a.sasl_bind_s, "ldap_sasl_bind_s");
  get(a.unbind_ext_s, "ldap_unbind_ext_s");
  get(a.search_ext_s, "ldap_search_ext_s");
  get(a.first_entry, "ldap_first_entry");
  get(a.next_entry, "ldap_next_entry");
  get(a.get_values_len, "ldap_get_values_len");
  get(a.value_free_len, "ldap_value_free_len");
  get(a.msgfree, "ldap_msgfree");
  get(a.get_dn, "ldap_get_dn");
  get(a.memfree, "ldap_memfree");
  get(a.parse_result, "ldap_parse_result");
  get(a.modify_ext_s, "ldap_modify_ext_s");
  get(a.add_ext_s, "ldap_add_ext_s");
  get(a.rename_s, "ldap_rename_s");
  get(a.delete_ext_s, "ldap_delete_ext_s");
  get(a.err2string, "ldap_err2string");
  get(a.create_page_control, "ldap_create_page_control");
  get(a.parse_pageresponse_control, "ldap_parse_pageresponse_control");
  get(a.control_find, "ldap_control_find");
  get(a.control_free, "ldap_control_free");
  get(a.controls_free, "ldap_controls_free");
  if (!ok) return std::unexpected(ok.error());
  loaded = a;
  ready = true;
  return &loaded;
}

// libldap writes to its socket without MSG_NOSIGNAL: a directory that went away would raise
// SIGPIPE in whatever process hosts the module (sshd's child, su, a screen locker) and kill
// it. So SIGPIPE is blocked in this thread around every libldap call, and one it raised is
// taken back before the mask is restored; the failed write is then an error like any other.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_only, &previous_) == 0;
  }
  ~SigpipeGuard() {
    if (!blocked_) return;
    sigset_t pending;
    sigemptyset(&pending);
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      const timespec now{0, 0};
      while (sigtimedwait(&pipe_only, nullptr, &now) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t previous_{};
  bool blocked_ = false;
  bool was_pending_ = false;
};

bool lost_connection(int code) {
  return code == LDAP_SERVER_DOWN || code == LDAP_TIMEOUT || code == LDAP_CONNECT_ERROR ||
         code == LDAP_UNAVAILABLE || code == LDAP_BUSY;
}

// A berval array for libldap's LDAPMod, pointing into strings that outlive it.
struct ModStorage {
  std::vector<std::vector<berval>> values;
  std::vector<std::vector<berval*>> pointers;
  std::vector<std::string> types;
  std::vector<LDAPMod> mods;
  std::vector<LDAPMod*> list;

  explicit ModStorage(const std::vector<LdapChange>& changes, bool for_add) {
    const std::size_t n = changes.size();
    values.resize(n);
    pointers.resize(n);
    types.resize(n);
    mods.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      types[i] = changes[i].attribute;
      for (const auto& v : changes[i].values) {
        values[i].push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
      }
      for (auto& b : values[i]) pointers[i].push_back(&b);
      pointers[i].push_back(nullptr);
      int op = changes[i].op == LdapChange::Op::add ? LDAP_MOD_ADD : LDAP_MOD_DELETE;
      if (for_add) op = 0;
      mods[i].mod_op = op | LDAP_MOD_BVALUES;
      mods[i].mod_type = types[i].data();
      mods[i].mod_bvalues = pointers[i].data();
    }
    for (auto& m : mods) list.push_back(&m);
    list.push_back(nullptr);
  }
};

// "NAME" of a DN "uid=NAME,...", or empty when the first RDN is anything else (another
// attribute, several values joined by '+', an escaped character: no valid user name has one).
std::string rdn_uid(std::string_view dn) {
  const auto comma = dn.find(',');
  const std::string_view rdn = dn.substr(0, comma);
  if (rdn.size() < 5 || strncasecmp(std::string(rdn.substr(0, 4)).c_str(), "uid=", 4) != 0) {
    return {};
  }
  const std::string_view value = rdn.substr(4);
  if (value.find_first_of("+\\\"=") != std::string_view::npos) return {};
  return std::string(value);
}

}  // namespace

struct LdapConnection::Handle {
  const Api* api = nullptr;
  LDAP* ld = nullptr;
  ~Handle() {
    const SigpipeGuard guard;
    if (ld != nullptr) api->unbind_ext_s(ld, nullptr, nullptr);
  }

  std::string diagnostic() const {
    char* message = nullptr;
    std::string out;
    if (api->get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, static_cast<void*>(&message)) ==
            LDAP_OPT_SUCCESS &&
        message != nullptr) {
      out = message;
      api->memfree(message);
    }
    return out;
  }

  std::string describe(int code) const {
    std::string text = api->err2string(code);
    const std::string more = diagnostic();
    if (!more.empty()) text += " (" + more + ")";
    return text;
  }
};

namespace {

Result<SecretString> read_password(const std::string& path, uid_t trusted_uid) {
  auto text = read_trusted_file(AT_FDCWD, path, trusted_uid, FileAccess::private_to_owner,
                                kMaxPasswordFileSize);
  if (!text) return fail(text.error().code, "bind password file: " + text.error().message);
  std::string& s = text->str();
  if (s.ends_with('\n')) s.pop_back();
  if (s.empty() || s.find('\n') != std::string::npos || s.find('\0') != std::string::npos) {
    return fail(Errc::config, "bind password file " + path + " must hold one line");
  }
  return std::move(*text);
}

// Every option the connection depends on, on the handle (see ldap_client.hpp).
// tls: whether the connection will use TLS (ldap://, ldaps://). Over ldapi:// no TLS option is
// ever used, and building a TLS context would parse the CA bundle for nothing on every login.
Result<void> set_options(const Api& a, LDAP* ld, const LdapSettings& settings, bool tls) {
  // Boolean options are on for any pointer but LDAP_OPT_OFF (LDAP_OPT_ON names a liblber
  // symbol, which the core does not link).
  const int version = LDAP_VERSION3, deref = LDAP_DEREF_NEVER, zero = 0, on = 1;
  const int demand = LDAP_OPT_X_TLS_DEMAND, tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2,
            san = LDAP_OPT_X_TLS_TRY, client = 0;
  timeval timeout{settings.timeout_ms / 1000,
                  static_cast<suseconds_t>(settings.timeout_ms % 1000) * 1000};
  const int time_limit = (settings.timeout_ms + 999) / 1000;
  const std::string ca = settings.ca_file.empty() ? kSystemCaFile : settings.ca_file;
  struct Option {
    int option;
    const void* value;
    const char* name;
  };
  const Option options[] = {
      {LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version"},
      {LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals"},
      {LDAP_OPT_DEREF, &deref, "alias dereferencing"},
      {LDAP_OPT_SIZELIMIT, &zero, "size limit"},
      {LDAP_OPT_TIMELIMIT, &time_limit, "time limit"},
      {LDAP_OPT_NETWORK_TIMEOUT, &timeout, "network timeout"},
      {LDAP_OPT_TIMEOUT, &timeout, "timeout"},
      {LDAP_OPT_RESTART, &on, "restart"},
      {LDAP_OPT_SOCKET_BIND_ADDRESSES, nullptr, "source address"},
  };
  const Option tls_options[] = {
      {LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, "TLS certificate check"},
      {LDAP_OPT_X_TLS_REQUIRE_SAN, &san, "TLS subjectAltName check"},
      {LDAP_OPT_X_TLS_CACERTFILE, ca.c_str(), "TLS CA file"},
      {LDAP_OPT_X_TLS_CACERTDIR, nullptr, "TLS CA directory"},
      {LDAP_OPT_X_TLS_CERTFILE, nullptr, "TLS client certificate"},
      {LDAP_OPT_X_TLS_KEYFILE, nullptr, "TLS client key"},
      {LDAP_OPT_X_TLS_CIPHER_SUITE, nullptr, "TLS cipher suite"},
      {LDAP_OPT_X_TLS_CRLFILE, nullptr, "TLS CRL file"},
      {LDAP_OPT_X_TLS_PEERKEY_HASH, nullptr, "TLS peer key pin"},
      {LDAP_OPT_X_TLS_ECNAME, nullptr, "TLS curves"},
      {LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12, "TLS minimum protocol"},
      {LDAP_OPT_X_TLS_NEWCTX, &client, "TLS context"},  // last: built from the options above
  };
  for (const auto& o : options) {
    if (a.set_option(ld, o.option, o.value) != LDAP_OPT_SUCCESS) {
      return fail(Errc::internal, std::string("cannot set the LDAP option for the ") + o.name);
    }
  }
  if (!tls) return {};
  for (const auto& o : tls_options) {
    if (a.set_option(ld, o.option, o.value) != LDAP_OPT_SUCCESS) {
      return fail(Errc::internal, std::string("cannot set the LDAP option for the ") + o.name);
    }
  }
  return {};
}

}  // namespace

LdapConnection::LdapConnection(std::unique_ptr<Handle> handle, std::string base, std::string uri)
    : handle_(std::move(handle)), base_(std::move(base)), uri_(std::move(uri)) {}
LdapConnection::LdapConnection(LdapConnection&& other) noexcept = default;
LdapConnection& LdapConnection::operator=(LdapConnection&& other) noexcept = default;
LdapConnection::~LdapConnection() = default;

Result<LdapConnection> LdapConnection::open(const LdapSettings& settings, const LdapBind& bind,
                                            uid_t trusted_uid) {
  auto loaded = api();
  // Not a directory that is down: a library that cannot be mapped (an address-space limit set
  // by the caller of su, a broken install) is this host's failure, and must not let members of
  // exempt_groups in the way an unreachable directory does.
  if (!loaded) return fail(Errc::internal, "the directory client: " + loaded.error().message);
  const Api& a = **loaded;
  std::optional<SecretString> password;
  if (!bind.dn.empty()) {
    auto read = read_password(bind.password_file, trusted_uid);
    if (!read) return std::unexpected(read.error());
    password = std::move(*read);
  }
  const SigpipeGuard guard;
  std::string failures;
  for (const auto& uri : settings.uris) {
    auto handle = std::make_unique<Handle>();
    handle->api = &a;
    if (int rc = a.initialize(&handle->ld, uri.c_str()); rc != LDAP_SUCCESS) {
      handle->ld = nullptr;
      failures += "; " + uri + ": " + a.err2string(rc);
      continue;
    }
    if (auto set = set_options(a, handle->ld, settings, !uri.starts_with("ldapi://")); !set) {
      return std::unexpected(set.error());
    }
    if (uri.starts_with("ldap://")) {
      // Never a password, a secret or a code over a connection without TLS.
      if (int rc = a.start_tls_s(handle->ld, nullptr, nullptr); rc != LDAP_SUCCESS) {
        failures += "; " + uri + ": StartTLS: " + handle->describe(rc) +
                    (rc == LDAP_CONNECT_ERROR ? " (TLS failed: is the server's certificate "
                                                "issued by ldap_ca_file, for this host name?)"
                                              : "");
        continue;
      }
    }
    berval credentials{0, nullptr};
    int rc;
    if (password) {
      credentials.bv_len = static_cast<ber_len_t>(password->size());
      credentials.bv_val = password->str().data();
      rc = a.sasl_bind_s(handle->ld, bind.dn.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr,
                         nullptr, nullptr);
    } else {
      // An empty initial response (no authorization identity): present, not absent, or slapd
      // answers saslBindInProgress and waits for one.
      static char no_identity[] = "";
      credentials.bv_val = no_identity;
      rc = a.sasl_bind_s(handle->ld, nullptr, "EXTERNAL", &credentials, nullptr, nullptr, nullptr);
    }
    if (rc != LDAP_SUCCESS) {
      if (rc == LDAP_CONNECT_ERROR && uri.starts_with("ldaps://")) {
        failures += "; " + uri +
                    ": TLS failed (is the server's certificate issued by "
                    "ldap_ca_file, for this host name?)";
        continue;
      }
      failures += "; " + uri + ": bind as " + (bind.dn.empty() ? "SASL EXTERNAL" : bind.dn) + ": " +
                  handle->describe(rc);
      continue;
    }
    LdapConnection connection(std::move(handle), settings.base, uri);
    // The base itself must be visible: base scope, no attributes.
    char no_attributes[] = "1.1";
    char* attrs[] = {no_attributes, nullptr};
    LDAPMessage* result = nullptr;
    timeval timeout{settings.timeout_ms / 1000,
                    static_cast<suseconds_t>(settings.timeout_ms % 1000) * 1000};
    LDAPControl* base_controls[] = {&dont_use_copy, nullptr};
    rc = a.search_ext_s(connection.handle_->ld, settings.base.c_str(), LDAP_SCOPE_BASE,
                        "(objectClass=*)", attrs, 0, base_controls, nullptr, &timeout, 1, &result);
    const bool found = rc == LDAP_SUCCESS && a.first_entry(connection.handle_->ld, result);
    if (result != nullptr) a.msgfree(result);
    if (rc == LDAP_NO_SUCH_OBJECT || (rc == LDAP_SUCCESS && !found)) {
      return fail(Errc::config, "ldap_base " + settings.base + " does not exist on " + uri +
                                    " or the bind identity cannot see it");
    }
    if (rc != LDAP_SUCCESS) {
      failures += "; " + uri + ": reading ldap_base: " + connection.handle_->describe(rc);
      continue;
    }
    return connection;
  }
  return fail(Errc::unreachable, "no directory could be used" + failures);
}

Result<void> LdapConnection::check(int code, std::string_view what, bool wrote) {
  if (code == LDAP_SUCCESS) return {};
  const std::string why = uri_ + ": " + std::string(what) + ": " + handle_->describe(code);
  switch (code) {
    case LDAP_NO_SUCH_ATTRIBUTE:
    case LDAP_TYPE_OR_VALUE_EXISTS:
    case LDAP_ALREADY_EXISTS:
    case LDAP_ASSERTION_FAILED: return fail(Errc::conflict, why);
    case LDAP_INSUFFICIENT_ACCESS: return fail(Errc::denied, why);
    case LDAP_NO_SUCH_OBJECT: return fail(Errc::not_found, why);
    default: break;
  }
  if (lost_connection(code)) return fail(wrote ? Errc::outcome_unknown : Errc::unreachable, why);
  return fail(Errc::io, why);
}

Result<std::vector<LdapEntry>> LdapConnection::search_children(std::string_view filter) {
  const SigpipeGuard guard;
  const Api& a = *handle_->api;
  std::vector<std::string> names = state_attribute_names();
  names.emplace_back("valixGeneration");
  std::vector<char*> attrs;
  attrs.reserve(names.size() + 1);
  for (auto& n : names) attrs.push_back(n.data());
  attrs.push_back(nullptr);
  const std::string filter_text(filter);
  std::vector<LdapEntry> entries;
  berval cookie{0, nullptr};
  auto free_cookie = [&] {
    if (cookie.bv_val != nullptr) a.memfree(cookie.bv_val);
    cookie = {0, nullptr};
  };
  for (;;) {
    LDAPControl* page = nullptr;
    if (int rc = a.create_page_control(handle_->ld, kPageSize, &cookie, 0, &page);
        rc != LDAP_SUCCESS) {
      free_cookie();
      return std::unexpected(check(rc, "paged search", false).error());
    }
    LDAPControl* server_controls[] = {page, &dont_use_copy, nullptr};
    LDAPMessage* result = nullptr;
    int rc = a.search_ext_s(handle_->ld, base_.c_str(), LDAP_SCOPE_ONELEVEL, filter_text.c_str(),
                            attrs.data(), 0, server_controls, nullptr, nullptr, 0, &result);
    a.control_free(page);
    free_cookie();
    if (rc != LDAP_SUCCESS) {
      if (result != nullptr) a.msgfree(result);
      return std::unexpected(check(rc, "search", false).error());
    }
    for (LDAPMessage* e = a.first_entry(handle_->ld, result); e != nullptr;
         e = a.next_entry(handle_->ld, e)) {
      LdapEntry entry;
      if (char* dn = a.get_dn(handle_->ld, e); dn != nullptr) {
        entry.name = rdn_uid(dn);
        a.memfree(dn);
      }
      for (const auto& name : names) {
        berval** values = a.get_values_len(handle_->ld, e, name.c_str());
        if (values == nullptr) continue;
        std::vector<SecretString> copied;
        for (berval** v = values; *v != nullptr; ++v) {
          copied.emplace_back(std::string_view((*v)->bv_val, (*v)->bv_len));
          wipe((*v)->bv_val, (*v)->bv_len);
        }
        a.value_free_len(values);
        if (name == "valixGeneration") {
          if (copied.size() == 1) entry.generation = std::string(copied.front().view());
          else entry.generation = std::string();  // several: never matches a compare-and-swap
        } else {
          entry.attributes.emplace(name, std::move(copied));
        }
      }
      entries.push_back(std::move(entry));
    }
    LDAPControl** controls = nullptr;
    int code = LDAP_SUCCESS;
    rc = a.parse_result(handle_->ld, result, &code, nullptr, nullptr, nullptr, &controls, 1);
    if (rc != LDAP_SUCCESS) return std::unexpected(check(rc, "search result", false).error());
    if (code != LDAP_SUCCESS) {
      if (controls != nullptr) a.controls_free(controls);
      return std::unexpected(check(code, "search", false).error());
    }
    LDAPControl* response = a.control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nullptr);
    ber_int_t estimate = 0;
    if (response != nullptr &&
        a.parse_pageresponse_control(handle_->ld, response, &estimate, &cookie) != LDAP_SUCCESS) {
      cookie = {0, nullptr};
    }
    if (controls != nullptr) a.controls_free(controls);
    if (cookie.bv_val == nullptr || cookie.bv_len == 0) break;
  }
  free_cookie();
  return entries;
}

Result<void> LdapConnection::add(std::string_view dn, const std::vector<LdapChange>& attributes) {
  const SigpipeGuard guard;
  ModStorage storage(attributes, true);
  const std::string target(dn);
  return check(
      handle_->api->add_ext_s(handle_->ld, target.c_str(), storage.list.data(), nullptr, nullptr),
      "add " + target, true);
}

Result<void> LdapConnection::modify(std::string_view dn, const std::vector<LdapChange>& changes) {
  const SigpipeGuard guard;
  ModStorage storage(changes, false);
  const std::string target(dn);
  return check(handle_->api->modify_ext_s(handle_->ld, target.c_str(), storage.list.data(), nullptr,
                                          nullptr),
               "modify " + target, true);
}

Result<void> LdapConnection::rename(std::string_view dn, std::string_view new_rdn) {
  const SigpipeGuard guard;
  const std::string target(dn), rdn(new_rdn);
  return check(handle_->api->rename_s(handle_->ld, target.c_str(), rdn.c_str(), nullptr, 1, nullptr,
                                      nullptr),
               "rename " + target, true);
}

Result<void> LdapConnection::remove(std::string_view dn) {
  const SigpipeGuard guard;
  const std::string target(dn);
  return check(handle_->api->delete_ext_s(handle_->ld, target.c_str(), nullptr, nullptr),
               "delete " + target, true);
}

}  // namespace valix
