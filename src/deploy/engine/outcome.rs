//! How a stack's deploy ended, and which of several outcomes decides the exit code. A deploy
//! that did not succeed carries the crate's error (message, help line, what it is about),
//! printed by the command like every other error.

use crate::deploy::watch::Ending;
use crate::error::Error;
use crate::exit;

/// How a stack's deploy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Deployed,
    NoChanges,
    /// `--detach`: execution started; the deploy goes on in AWS.
    Detached,
    /// `--diff` was declined.
    Declined,
    Failed(Error),
    /// CloudFormation or ECS rolled the stack back: what failed first.
    RolledBack(Error),
    TimedOut(Error),
    /// Ctrl-C: where the stack was left.
    Interrupted(String),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Deployed => "deployed",
            Outcome::NoChanges => "no changes",
            Outcome::Detached => "detached",
            Outcome::Declined => "declined",
            Outcome::Failed(_) => "failed",
            Outcome::RolledBack(_) => "rolled back",
            Outcome::TimedOut(_) => "timed out",
            Outcome::Interrupted(_) => "interrupted",
        }
    }

    /// An operation that failed, said as text (exit code 1).
    pub(crate) fn failure(message: impl Into<String>) -> Outcome {
        Outcome::Failed(Error::failure(message))
    }

    /// The error a deploy that did not succeed ended with (`None`: it succeeded, was declined,
    /// or was interrupted, which is no error).
    pub fn error(&self) -> Option<&Error> {
        match self {
            Outcome::Failed(e) | Outcome::RolledBack(e) | Outcome::TimedOut(e) => Some(e),
            _ => None,
        }
    }

    /// What there is to say about the outcome, as one text (message and help line): the
    /// summary's `detail` in JSON and the progress line's.
    pub fn detail(&self) -> Option<String> {
        match self {
            Outcome::Interrupted(d) => Some(d.clone()),
            other => other.error().map(Error::to_string),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Deployed | Outcome::NoChanges | Outcome::Detached | Outcome::Declined => {
                exit::SUCCESS
            }
            Outcome::Failed(_) | Outcome::TimedOut(_) => exit::FAILURE,
            Outcome::RolledBack(_) => exit::ROLLED_BACK,
            Outcome::Interrupted(_) => exit::INTERRUPTED,
        }
    }

    /// Which of two outcomes decides the exit code: interrupted, then rolled back, then failed.
    fn severity(&self) -> u8 {
        match self.exit_code() {
            exit::INTERRUPTED => 3,
            exit::ROLLED_BACK => 2,
            exit::FAILURE => 1,
            _ => 0,
        }
    }
}

/// The exit code for several outcomes: the worst one.
pub fn worst_exit_code<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> u8 {
    outcomes
        .into_iter()
        .max_by_key(|o| o.severity())
        .map_or(exit::SUCCESS, Outcome::exit_code)
}

pub(super) fn outcome_of(ending: Ending) -> Outcome {
    match ending {
        Ending::Succeeded => Outcome::Deployed,
        Ending::Failed(d) => Outcome::failure(d),
        Ending::RolledBack(d) => Outcome::RolledBack(Error::with_code(exit::ROLLED_BACK, d)),
        Ending::TimedOut(d) => Outcome::TimedOut(Error::failure(d)),
        Ending::Interrupted(d) => Outcome::Interrupted(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_outcome_decides() {
        let all = [
            Outcome::Deployed,
            Outcome::Failed("x".into()),
            Outcome::RolledBack("y".into()),
            Outcome::NoChanges,
        ];
        assert_eq!(worst_exit_code(&all), exit::ROLLED_BACK);
        assert_eq!(
            worst_exit_code(&[Outcome::NoChanges, Outcome::Deployed]),
            exit::SUCCESS
        );
        assert_eq!(
            worst_exit_code(&[Outcome::Failed("x".into())]),
            exit::FAILURE
        );
        assert_eq!(
            worst_exit_code(&[
                Outcome::TimedOut("x".into()),
                Outcome::Interrupted("y".into())
            ]),
            exit::INTERRUPTED
        );
    }
}
