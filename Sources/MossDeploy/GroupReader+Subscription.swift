import MossMQTT

extension GroupReader {
    func readSubscription(_ field: Field) -> Subscription {
        var subscription = Subscription(id: "", source: .cloud, subject: "", target: .cloud)
        let keys = GroupKeys.subscription
        guard let fields = mapping(field, keys: keys, required: keys) else { return subscription }
        if let value = fields["id"] { subscription.id = name(value, .v1("subscription id")) ?? "" }
        if let value = fields["source"], let reference = readEndpoint(value) { subscription.source = reference }
        if let value = fields["target"], let reference = readEndpoint(value) { subscription.target = reference }
        if let value = fields["subject"], let subject = string(value) {
            subscription.subject = subject
            checkSubject(subject, value)
        }
        return subscription
    }

    private func readEndpoint(_ field: Field) -> Endpoint? {
        guard let text = string(field) else { return nil }
        switch EndpointSyntax.parse(text, context: context) {
        case .success(let reference):
            if let qualifier = reference.qualifier { qualifiers[field.path] = qualifier }
            return reference.endpoint
        case .failure(let problem):
            error(field, problem.message)
            return nil
        }
    }

    /// A subject is a topic or a filter: wildcards only where a subscription filter may have them.
    private func checkSubject(_ subject: String, _ field: Field) {
        if subject.hasPrefix("$share/") {
            error(field, "\(quoted(subject)): a shared subscription ($share/…) cannot be a subject")
            return
        }
        do {
            try MQTTTopic.validateFilter(subject)
        } catch {
            self.error(field, "\(quoted(subject)) is not a valid topic or topic filter: \(error)")
        }
    }
}
