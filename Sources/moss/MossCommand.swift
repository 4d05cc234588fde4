@main struct Moss { static func main() {} }
