//! A process the simulator started, in a process group of its own (the
//! container's "PID namespace": signals to the group reach what it forked),
//! waited for on a thread so anyone can wait on it with a bound.

use std::process::{Command, ExitStatus};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

pub struct Proc {
    pub pid: i32,
    status: Mutex<Option<ExitStatus>>,
    done: Condvar,
}

impl Proc {
    /// Starts `cmd` as the leader of a new process group.
    pub fn spawn(mut cmd: Command) -> Arc<Proc> {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let proc = Arc::new(Proc {
            pid: child.id() as i32,
            status: Mutex::new(None),
            done: Condvar::new(),
        });
        let waiter = Arc::clone(&proc);
        std::thread::spawn(move || {
            let status = child.wait().expect("wait for child");
            *waiter.status.lock().unwrap() = Some(status);
            waiter.done.notify_all();
        });
        proc
    }

    pub fn exited(&self) -> Option<ExitStatus> {
        *self.status.lock().unwrap()
    }

    /// Waits at most `limit` for the process to exit.
    pub fn wait_for(&self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        let mut status = self.status.lock().unwrap();
        loop {
            if let Some(s) = *status {
                return Some(s);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            status = self.done.wait_timeout(status, deadline - now).unwrap().0;
        }
    }

    /// A signal to the process itself (as a runtime signals PID 1).
    pub fn signal(&self, sig: Signal) {
        if self.exited().is_none() {
            let _ = kill(Pid::from_raw(self.pid), sig);
        }
    }

    /// SIGKILL to the whole group: the process and everything it forked.
    /// Safe after exit too: the group is ours until its last member is gone.
    pub fn kill_group(&self) {
        let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
    }

    /// Runs `cmd` to the end within `limit`; (exit code, or None on timeout).
    pub fn run(cmd: Command, limit: Duration) -> Option<i32> {
        let p = Proc::spawn(cmd);
        let status = p.wait_for(limit);
        p.kill_group();
        match status {
            Some(s) => Some(s.code().unwrap_or(128)),
            None => {
                p.wait_for(Duration::from_secs(5));
                None
            }
        }
    }
}
