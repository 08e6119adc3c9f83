import Testing

extension Tag {
    /// Tests that push tens of megabytes through the observer (seconds in debug builds).
    @Tag static var slow: Self
}
