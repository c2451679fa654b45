//! The fake tools (owned by the fakes helper; see CONTRACT.md).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Minikube,
    Istioctl,
    Kubectl,
    Docker,
}

impl Tool {
    pub fn from_name(name: &str) -> Option<Tool> {
        match name {
            "minikube" => Some(Tool::Minikube),
            "istioctl" => Some(Tool::Istioctl),
            "kubectl" => Some(Tool::Kubectl),
            "docker" => Some(Tool::Docker),
            _ => None,
        }
    }
}

pub fn run(tool: Tool, _version: Option<String>, _args: Vec<String>) -> i32 {
    eprintln!("meshup-sim: the fake {tool:?} is not built yet");
    1
}
