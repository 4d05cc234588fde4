public import MossResources

/// The resource commands' side of ``ResourceRoutes``.
extension AdminClient {
    public func resources() async throws(AdminClientError) -> [ResourceVersion] {
        let listing: ResourceRoutes.Listing = try await get("/v1/resources")
        return listing.resources
    }

    public func resourceTransfers() async throws(AdminClientError) -> [ResourceTransfer] {
        let transfers: ResourceRoutes.Transfers = try await get("/v1/resources/progress")
        return transfers.transfers
    }
}
