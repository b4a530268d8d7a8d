// tessera::Runtime: sessions, generation and the transcript.
#include <utility>

#include "runtime/runtime_impl.h"

namespace tessera {

SessionState::~SessionState() {
  if (activity != nullptr) ++*activity;
  session.reset();
  if (activity != nullptr) ++*activity;
  if (set != nullptr && lease.valid()) set->ReleaseSession(lease, charge);
}

Result<SessionHandle> Runtime::OpenSession(ModuleHandle module) {
  std::shared_ptr<ModuleLeaseState> owner;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    TS_ASSIGN_OR_RETURN(owner, impl_->modules.Get(module.id));
  }
  // The session's own lease: the module stays resident while the session lives, whatever
  // happens to the handle it was opened from.
  TS_ASSIGN_OR_RETURN(resident::ResidentSet::Lease lease, impl_->set->Acquire(owner->package.spec));
  auto state = std::make_shared<SessionState>();
  state->module = owner->module;
  state->manifest = owner->package.manifest;
  const SessionMemory expected = state->module->session_memory;
  const resident::ResidentSet::SessionCharge charge{expected.kv_bytes, expected.other_bytes};
  // Charged before the engine allocates anything (the smoke check measured one session).
  TS_RETURN_IF_ERROR(impl_->set->ChargeSession(lease, charge));
  state->set = impl_->set.get();
  state->charge = charge;
  state->lease = std::move(lease);
  state->activity = &impl_->activity;
  SessionOptions so;
  if (state->module->adapter != nullptr) so.adapters.push_back({state->module->adapter, 1.0f});
  ++impl_->activity;
  Result<std::unique_ptr<Session>> created = state->module->model->NewSession(so);
  ++impl_->activity;
  TS_ASSIGN_OR_RETURN(state->session, std::move(created));
  const SessionMemory actual = state->session->memory();
  if (actual.kv_bytes != expected.kv_bytes || actual.other_bytes != expected.other_bytes) {
    return Status(StatusCode::kInternal, "runtime: a session of " + owner->package.spec.key +
                                             " holds other bytes than its smoke check measured");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  return SessionHandle{impl_->sessions.Add(std::move(state))};
}

Status Runtime::CloseSession(SessionHandle session) {
  std::shared_ptr<SessionState> state;  // freed after the lock (or after a running Generate)
  std::lock_guard<std::mutex> lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(state, impl_->sessions.Remove(session.id));
  return Status::Ok();
}

Result<std::shared_ptr<SessionState>> Runtime::Impl::LockedSession(
    SessionHandle handle, std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<SessionState> state;
  {
    std::lock_guard<std::mutex> tables(mu);
    TS_ASSIGN_OR_RETURN(state, sessions.Get(handle.id));
  }
  lock = std::unique_lock<std::mutex>(state->mu, std::try_to_lock);
  if (!lock.owns_lock()) {
    return Status(StatusCode::kFailedPrecondition,
                  "runtime: session " + std::to_string(handle.id) +
                      " is in use by another thread (one Generate at a time)");
  }
  return state;
}

Result<GenerateResult> Runtime::Generate(SessionHandle session, std::string_view prompt,
                                         const GenerateOptions& options,
                                         const TokenCallback& on_token,
                                         const CancellationToken* cancel) {
  std::unique_lock<std::mutex> lock;
  TS_ASSIGN_OR_RETURN(std::shared_ptr<SessionState> state, impl_->LockedSession(session, lock));
  TS_ASSIGN_OR_RETURN(resident::ResidentSet::Slot slot, impl_->set->EnterParallel(state->lease));
  ++impl_->activity;
  Result<GenerateResult> generated = state->session->Generate(prompt, options, on_token, cancel);
  ++impl_->activity;
  TS_ASSIGN_OR_RETURN(GenerateResult result, std::move(generated));
  state->transcript.push_back({std::string(prompt), result.text});
  return result;
}

Status Runtime::ResetContext(SessionHandle session) {
  std::unique_lock<std::mutex> lock;
  TS_ASSIGN_OR_RETURN(std::shared_ptr<SessionState> state, impl_->LockedSession(session, lock));
  state->session->Reset();
  return Status::Ok();
}

Result<std::vector<Turn>> Runtime::Transcript(SessionHandle session) const {
  std::unique_lock<std::mutex> lock;
  TS_ASSIGN_OR_RETURN(std::shared_ptr<SessionState> state, impl_->LockedSession(session, lock));
  return state->transcript;
}

Status Runtime::ClearTranscript(SessionHandle session) {
  std::unique_lock<std::mutex> lock;
  TS_ASSIGN_OR_RETURN(std::shared_ptr<SessionState> state, impl_->LockedSession(session, lock));
  state->transcript.clear();
  return Status::Ok();
}

}  // namespace tessera
