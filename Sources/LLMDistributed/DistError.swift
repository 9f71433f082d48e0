// DistError: the errors of the distributed layer, worded for users (DESIGN.md §2): MPI missing, MPI
// failing, shapes that differ between ranks, tensors a collective cannot take.
import LLMCore

/// An error of a collective or of loading MPI; `description` is the whole message.
public struct DistError: UserFacingError {
    public let description: String
    public init(_ description: String) { self.description = description }
}
